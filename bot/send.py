"""Messages a listener owes right now: recorded in the outbox first, then sent at once.

Going through the outbox even for immediate messages keeps one guarantee everywhere: a
redelivered webhook or a double click owes the same dedupe key, so Slack sees it once.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.delivery import DeliveryReport, deliver_due
from bot.handoff.relevance import moot_reason
from bot.services import Services
from storage.models import Account
from storage.outbox import OwedMessage, enqueue


def about(
    services: Services,
    account: Account,
    key: str,
    channel: str,
    text: str,
    *,
    due_at: datetime | None = None,
    kind: str = "message",
    blocks: list[dict] | None = None,
    thread_ts: str | None = None,
) -> OwedMessage:
    """A message about an account, owed once per `key` (the account id is appended)."""
    return OwedMessage(
        team_id=account.team_id,
        dedupe_key=f"{key}:{account.id}",
        channel=channel,
        text=text,
        due_at=due_at or services.clock(),
        blocks=blocks,
        thread_ts=thread_ts,
        kind=kind,
        account_id=account.id,
    )


async def send_now(services: Services, *messages: OwedMessage) -> DeliveryReport:
    ids = []
    for message in messages:
        new_id = await asyncio.to_thread(enqueue, services.engine, message)
        if new_id is not None:
            ids.append(new_id)
    if not ids:
        return DeliveryReport()
    return await deliver_due(
        services.engine, services.sender, services.clock(), ids=ids, relevance=moot_reason
    )


async def owe(services: Services, *messages: OwedMessage) -> int:
    """Record messages due later; returns how many were newly owed."""
    owed = 0
    for message in messages:
        owed += await asyncio.to_thread(enqueue, services.engine, message) is not None
    return owed
