"""What people contribute to every tick and every send: fresh manager groups, everyone's
time zone before planning, and messages rerouted from someone away to their backup, or
from someone deactivated to a stand-in."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session

from bot.people.cover import covered_route, deactivated_route
from bot.people.directory import gather_zones
from bot.people.managers import next_refresh, refresh_managers
from bot.platform.hooks import Hooks
from bot.platform.services import Services
from storage.outbox import Claim


async def _refresh(services: Services, _now: datetime, _paused: Collection[str]) -> None:
    await refresh_managers(services)


def _covered(_services: Services, session: Session, claim: Claim, now: datetime) -> Claim | None:
    return covered_route(session, claim, now)


def _deactivated(
    services: Services, session: Session, claim: Claim, _now: datetime
) -> Claim | str | None:
    return deactivated_route(session, claim, services.managers)


def register(hooks: Hooks) -> None:
    hooks.stage("before_reconcile", "refreshing manager groups", _refresh)
    hooks.wakes.append(next_refresh)
    hooks.routes += [_covered, _deactivated]  # the cover chain first, then a stand-in
    hooks.gather.append(gather_zones)  # before planning: the zones messages are owed in
