"""The earliest moment the database says a tick will have something to do.

One time per kind of work a tick looks for, each the earliest a stage's own query could
find it (never later, sometimes sooner): a tick before the earliest of them finds nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import Account, Fault, OutboxMessage, OutboxStatus


def next_work_at(session: Session, stale_after: timedelta) -> datetime | None:
    """When the tick next has work: a message due (or a held one's next look), a row whose
    fate at Slack is to be settled (a "sending" one once it is `stale_after` its claim), an
    account to plan (once it is set up: the planner's own rule) or to set up, or a failed
    step's retry. One statement: each earliest is a subquery of its own (an index step)."""
    *times, claimed = session.execute(_earliest_of_each()).one()
    if claimed is not None:
        times.append(claimed + stale_after)
    return min((t for t in times if t is not None), default=None)


@cache
def _earliest_of_each() -> Any:
    """Built once: it has no parameters, and building it cost more than running it."""
    status = OutboxMessage.status
    return select(
        _earliest(OutboxMessage.due_at, status == OutboxStatus.PENDING),
        _earliest(OutboxMessage.due_at, status == OutboxStatus.HELD),
        _earliest(
            func.coalesce(OutboxMessage.next_check_at, OutboxMessage.claimed_at),
            status == OutboxStatus.UNKNOWN,
        ),
        _earliest(Account.plan_after, Account.provisioned_at.is_not(None)),
        _earliest(Account.setup_due_at),
        _earliest(Fault.retry_at),
        _earliest(OutboxMessage.claimed_at, status == OutboxStatus.SENDING),
    )


def _earliest(column: Any, *where: Any) -> Any:
    return select(func.min(column)).where(*where).scalar_subquery()
