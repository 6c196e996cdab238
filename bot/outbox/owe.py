"""Messages a listener owes right now: recorded in the outbox first, then sent at once.

A user action owes its messages in the same unit as its domain change (`enqueue_all`
inside the unit) and calls `deliver_now` with their ids once that unit has committed: a
crash in between loses nothing, the tick sends what is owed.

Going through the outbox even for immediate messages keeps one guarantee everywhere: a
redelivered webhook or a double click owes the same dedupe key, so Slack sees it once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.outbox.deliver import DeliveryReport, deliver_due
from bot.outbox.relevance import moot_reason
from bot.outbox.routing import outbound_guard, outbound_route
from bot.platform.services import Services
from storage.kinds import MessageKind, Subject, SubjectType
from storage.models import Account
from storage.outbox import OwedMessage, enqueue

SHORT_WAIT_S = 3.0  # how long someone's action may wait for its messages' turn, in all
# A scheduled message this late (Baton was down) is history, not news: it is dropped.
STALE_AFTER = timedelta(days=7)


def about(
    services: Services,
    account: Account,
    key: str,
    channel: str,
    text: str,
    *,
    due_at: datetime | None = None,
    kind: MessageKind = MessageKind.MESSAGE,
    blocks: list[dict] | None = None,
    thread_ts: str | None = None,
    expires_at: datetime | None = None,
    tz: ZoneInfo | None = None,
    subject: Subject | None = None,
) -> OwedMessage:
    """A message about an account, owed once per `key` (the account id is appended).

    `subject`: what in the account it is about (a check-in, a round of a milestone's
    nudges), when not the account itself. `tz`: the zone whose local hour `due_at` was
    chosen in, so that a person's zone change can move it (`storage.outbox.rezone`)."""
    subject = subject or Subject(SubjectType.ACCOUNT, str(account.id))
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
        expires_at=expires_at,
        local_tz=tz.key if tz is not None else None,
        subject_type=subject.type,
        subject_id=subject.id,
        milestone_id=subject.milestone_id,
        round=subject.round,
    )


def enqueue_all(session: Session, messages: Sequence[OwedMessage]) -> list[int]:
    """Owe these messages in the caller's unit: the ids of those newly owed."""
    return [i for i in (enqueue(session, m) for m in messages) if i is not None]


async def send_now(services: Services, *messages: OwedMessage) -> DeliveryReport:
    ids = await services.db.run(enqueue_all, messages) if messages else []
    return await deliver_now(services, ids)


async def deliver_now(services: Services, ids: Sequence[int]) -> DeliveryReport:
    """Send messages a committed unit owed (`enqueue_all`'s ids) right away, in the order
    they were owed; what Slack defers is left to the tick (the rows stay owed)."""
    ids = list(ids)
    report = DeliveryReport()
    now = services.clock()
    deadline = time.monotonic() + SHORT_WAIT_S
    while ids:
        attempt = await deliver_due(
            services.db,
            services.sender,
            now,
            ids=ids,
            relevance=moot_reason(services.hooks),
            route=outbound_route(services),
            guard=outbound_guard(services),
        )
        for name in ("sent", "unknown", "failed", "cancelled"):
            getattr(report, name).extend(getattr(attempt, name))
        ids = attempt.deferred
        if not ids:
            break
        # Rate limited: a person is waiting for this, so a short wait for its turn is
        # worth sitting out here; anything longer is left to the tick (the rows stay owed).
        retry_at = max(attempt.retry_at.values())
        wait = (retry_at - services.clock()).total_seconds()
        if time.monotonic() + wait > deadline:
            break
        await asyncio.sleep(max(0.0, wait))
        now = max(services.clock(), retry_at)
    report.deferred.extend(ids)
    return report


async def owe(services: Services, *messages: OwedMessage) -> int:
    """Record messages due later; returns how many were newly owed."""
    return len(await services.db.run(enqueue_all, messages)) if messages else 0
