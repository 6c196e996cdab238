"""The earliest moment the database says a tick will have something to do.

One time per kind of work a tick looks for, each the earliest a stage's own query could
find it (never later, sometimes sooner): a tick before the earliest of them finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from storage.models import Account, Fault, OutboxMessage, OutboxStatus


@dataclass(frozen=True)
class Earliest:
    """The earliest moment of each kind of work (None: there is none)."""

    pending: datetime | None  # a message due
    held: datetime | None  # a held message's next look
    unknown: datetime | None  # a row whose fate at Slack is to be read back
    planning: datetime | None  # an account to plan (once it is set up: the planner's rule)
    setup: datetime | None  # an account to set up
    retry: datetime | None  # a failed step's retry
    sending: datetime | None  # the oldest claim of a row being sent

    def soonest(self, stale_after: timedelta) -> datetime | None:
        """The first of them, a "sending" row counting once it is `stale_after` its claim."""
        times = [self.pending, self.held, self.unknown, self.planning, self.setup, self.retry]
        if self.sending is not None:
            times.append(self.sending + stale_after)
        return min((t for t in times if t is not None), default=None)


def earliest_of_each(session: Session) -> Earliest:
    """One statement: each earliest is a subquery of its own (an index step)."""
    return Earliest(*session.execute(_earliest_of_each()).one())


def next_work_at(session: Session, stale_after: timedelta) -> datetime | None:
    """When the tick next has work: a message due (or a held one's next look), a row whose
    fate at Slack is to be settled (a "sending" one once it is `stale_after` its claim), an
    account to plan or to set up, or a failed step's retry."""
    return earliest_of_each(session).soonest(stale_after)


@cache
def _earliest_of_each() -> Any:
    """Built once: it has no parameters, and building it cost more than running it. Its
    columns are in `Earliest`'s order."""
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
