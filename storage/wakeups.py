"""Work one process commits, announced to the others (PostgreSQL's NOTIFY).

A unit that owes messages (new outbox rows) or owes an account its set-up in Slack (a new
account, or one whose `setup_due_at` it set) says so (`announce`), and at commit the unit
sends a NOTIFY on that channel inside its own transaction: PostgreSQL delivers it when, and
only if, the unit commits, once per channel however many rows. Workers that LISTEN
elsewhere (`bot.platform.wake`) wake at once instead of at their next look. It is a hint,
never the truth: a worker that misses one still finds the work by its own poll. SQLite has
no NOTIFY and needs none: one process is the rule there, and its workers are woken
in-process.

The notice carries the unit's schema (`current_schema()`): deployments that share one
database in different schemas (as the test suite's workers do) hear only their own.

Only rows really added count (a redelivered dedupe key owes nothing): a worker's tick that
owes nothing new wakes nobody, so workers never wake each other in a loop.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlmodel import Session

OWED = "baton_owed"  # messages are owed: a tick should look
SETUP = "baton_setup"  # an account waits for its set-up in Slack
CHANNELS = (OWED, SETUP)
_NOTED = "baton_wakeups"  # Session.info key: the channels this unit will notify


def announce(session: Session, channel: str) -> None:
    """This unit adds work for `channel`'s workers: tell them when it commits."""
    session.info.setdefault(_NOTED, set()).add(channel)


def notify_at_commit() -> None:
    """Have every session send what it announced at commit (on PostgreSQL); idempotent."""
    if not event.contains(Session, "before_commit", _notify):
        event.listen(Session, "before_commit", _notify)


def _notify(session: Session) -> None:
    channels = session.info.pop(_NOTED, None)
    if channels and session.get_bind().dialect.name == "postgresql":
        for channel in sorted(channels):
            session.execute(
                text("SELECT pg_notify(:channel, current_schema())"), {"channel": channel}
            )
