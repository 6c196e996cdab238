"""Queries on renewal milestones."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from storage.db import changed, insert_for, require_write_lock
from storage.models import Milestone, MilestoneStatus


def ensure_milestones(session: Session, rows: list[dict[str, Any]]) -> None:
    """Create the cycle's milestones that do not exist yet (existing ones keep their state)."""
    if not rows:
        return
    statement = (
        insert_for(session)(Milestone)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["team_id", "account_id", "renewal_date", "key"])
    )
    session.execute(statement)


def cycle_milestones(
    session: Session, team_id: str, account_id: int, renewal_date: date
) -> list[Milestone]:
    return list(
        session.scalars(
            select(Milestone)
            .where(
                Milestone.team_id == team_id,
                Milestone.account_id == account_id,
                Milestone.renewal_date == renewal_date,
            )
            .order_by(Milestone.due_date, Milestone.id)
        )
    )


def get_milestone(session: Session, team_id: str, milestone_id: int) -> Milestone | None:
    return session.scalars(
        select(Milestone).where(Milestone.team_id == team_id, Milestone.id == milestone_id)
    ).first()


def mark_done(
    session: Session, team_id: str, milestone_id: int, by: str, outcome: str, now: datetime
) -> bool:
    """True for the one who closed it; False if it was already done."""
    return changed(
        session,
        update(Milestone)
        .where(
            Milestone.team_id == team_id,
            Milestone.id == milestone_id,
            Milestone.status != MilestoneStatus.DONE,
        )
        .values(status=MilestoneStatus.DONE, done_by=by, done_at=now, outcome=outcome),
    )


def snooze(session: Session, team_id: str, milestone_id: int, until: datetime) -> Milestone | None:
    """Push the milestone's nudges to `until`; None if it is already done."""
    require_write_lock(session)
    milestone = session.scalars(
        select(Milestone)
        .where(Milestone.team_id == team_id, Milestone.id == milestone_id)
        .with_for_update()
    ).one()
    if milestone.status == MilestoneStatus.DONE:
        return None
    milestone.status = MilestoneStatus.SNOOZED
    milestone.snoozes += 1
    milestone.round += 1
    milestone.snoozed_until = until
    return milestone


def request_help(session: Session, team_id: str, milestone_id: int, now: datetime) -> bool:
    return changed(
        session,
        update(Milestone)
        .where(
            Milestone.team_id == team_id,
            Milestone.id == milestone_id,
            Milestone.help_requested_at.is_(None),
        )
        .values(help_requested_at=now),
    )


def replaced_cycles(
    session: Session, team_id: str, account_id: int, renewal_date: date, today: date
) -> list[Milestone]:
    """Milestones of a cycle the account no longer has: its renewal date moved."""
    return list(
        session.scalars(
            select(Milestone).where(
                Milestone.team_id == team_id,
                Milestone.account_id == account_id,
                Milestone.renewal_date != renewal_date,
                Milestone.renewal_date >= today,
            )
        )
    )


def skip_open(session: Session, team_id: str, ids: list[int]) -> None:
    """Skip these milestones unless done: their owed nudges become moot."""
    if not ids:
        return
    session.execute(
        update(Milestone)
        .where(
            Milestone.team_id == team_id,
            Milestone.id.in_(ids),
            Milestone.status != MilestoneStatus.DONE,
        )
        .values(status=MilestoneStatus.SKIPPED)
    )


def reassign(
    session: Session,
    team_id: str,
    account_id: int,
    renewal_date: date,
    owners: dict[str, list[str]],
) -> list[Milestone]:
    """Give the cycle's open milestones these owners (by key); returns those that changed.
    What was owed to someone no longer an owner goes moot (see bot.outbox.relevance)."""
    moved = []
    require_write_lock(session)
    rows = session.scalars(
        select(Milestone)
        .where(
            Milestone.team_id == team_id,
            Milestone.account_id == account_id,
            Milestone.renewal_date == renewal_date,
            Milestone.status.in_([MilestoneStatus.OPEN, MilestoneStatus.SNOOZED]),
        )
        .with_for_update()
    ).all()
    for milestone in rows:
        new = owners.get(milestone.key)
        if new is not None and new != milestone.owners:
            milestone.owners = new
            moved.append(milestone)
    session.flush()
    return [Milestone(**m.model_dump()) for m in moved]
