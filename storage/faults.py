"""Steps that failed for one subject (an account, an owed message, a digest), so that one
bad row is retried with backoff and shown to admins instead of stopping everyone else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, tuple_
from sqlmodel import Session

from storage.db import insert_for
from storage.models import Fault

FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
ERROR_MAX = 500


def backoff(count: int) -> timedelta:
    """1 min, 2, 4, … doubling with each failure in a row, at most 6 hours."""
    return min(LONGEST_RETRY, FIRST_RETRY * 2 ** min(max(count - 1, 0), 20))


@dataclass(frozen=True)
class FaultKey:
    team_id: str
    subject: str  # account | message | digest
    subject_id: str
    step: str


def record_fault(session: Session, key: FaultKey, error: str, now: datetime) -> Fault:
    """Count one more failure of this step for this subject; the row says when to retry."""
    values = {
        "team_id": key.team_id,
        "subject": key.subject,
        "subject_id": key.subject_id[:64],
        "step": key.step[:40],
        "error": error[:ERROR_MAX],
        "count": 1,
        "first_at": now,
        "last_at": now,
        "retry_at": now + backoff(1),
    }
    statement = insert_for(session)(Fault).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["team_id", "subject", "subject_id", "step"],
        set_={"error": values["error"], "count": Fault.count + 1, "last_at": now},
    )
    session.execute(statement)
    fault = session.scalars(
        select(Fault).where(
            Fault.team_id == key.team_id,
            Fault.subject == key.subject,
            Fault.subject_id == values["subject_id"],
            Fault.step == values["step"],
        )
    ).one()
    fault.retry_at = now + backoff(fault.count)
    return fault


def clear_faults(session: Session, keys: list[FaultKey]) -> int:
    """The step worked again: forget its failures."""
    if not keys:
        return 0
    rows = tuple_(Fault.team_id, Fault.subject, Fault.subject_id, Fault.step)
    return session.execute(
        delete(Fault).where(rows.in_([(k.team_id, k.subject, k.subject_id, k.step) for k in keys]))
    ).rowcount


def fault_keys(session: Session) -> dict[FaultKey, datetime]:
    """Every failing (subject, step) and when to try it again: a short list, read once per
    tick."""
    return {
        FaultKey(team, subject, subject_id, step): retry_at
        for team, subject, subject_id, step, retry_at in session.execute(_KEYS)
    }


_KEYS = select(Fault.team_id, Fault.subject, Fault.subject_id, Fault.step, Fault.retry_at)


def faults_of(session: Session, team_id: str, limit: int = 10) -> tuple[list[Fault], int]:
    """The team's most recent failures, and how many there are in all."""
    rows = list(
        session.scalars(
            select(Fault)
            .where(Fault.team_id == team_id)
            .order_by(Fault.last_at.desc(), Fault.id)
            .limit(limit)
        )
    )
    total = session.scalar(select(func.count(Fault.id)).where(Fault.team_id == team_id)) or 0
    return rows, total
