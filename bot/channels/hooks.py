"""What account channels contribute to every send and every tick: nothing internal goes to
a channel shared outside the company, and held messages are settled once it is fixed."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.channels.internal import hold_reason
from bot.channels.unreachable import settle_held
from bot.platform.hooks import Hooks
from bot.platform.outlook import Outlook
from bot.platform.services import Services


async def _settle(services: Services, now: datetime, _paused: Collection[str]) -> None:
    await settle_held(services, now)


def _held_due(_services: Services, outlook: Outlook) -> bool:
    return outlook.due(outlook.earliest.held)


def register(hooks: Hooks) -> None:
    hooks.guards.append(hold_reason)
    hooks.stage("after_planning", "settling held messages", _settle, when=_held_due, owes=True)
