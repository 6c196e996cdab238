"""Queries on renewal milestones."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import Session

from storage.db import changed, insert_for, require_write_lock
from storage.models import Account, Milestone, MilestoneStatus

# An account's current renewal cycle, by (team, account id): its renewal date.
Cycles = Mapping[tuple[str, int], date]


def ensure_milestones(session: Session, rows: list[dict[str, Any]]) -> None:
    """Create the milestones that do not exist yet (existing ones keep their state), for
    any number of cycles: one statement, compiled once, executed for every row."""
    if not rows:
        return
    statement = insert_for(session)(Milestone.__table__).on_conflict_do_nothing(
        index_elements=["team_id", "account_id", "renewal_date", "key"]
    )
    session.execute(statement, rows)


def milestones_of_cycles(
    session: Session, cycles: Cycles
) -> dict[tuple[str, int], list[Milestone]]:
    """Each cycle's milestones in due order, for many accounts at once (one query, by
    account; sorted here: an ORDER BY due date would walk the team's due-date index)."""
    found: dict[tuple[str, int], list[Milestone]] = {key: [] for key in cycles}
    if not cycles:
        return found
    values = {
        "teams": list({team for team, _ in cycles}),
        "ids": [account_id for _, account_id in cycles],
        "dates": list(set(cycles.values())),
    }
    for milestone in session.scalars(_OF_CYCLES, values):
        key = (milestone.team_id, milestone.account_id)
        if cycles.get(key) == milestone.renewal_date:
            found[key].append(milestone)
    for steps in found.values():
        steps.sort(key=lambda m: (m.due_date, m.id))
    return found


def replaced_cycles_of(
    session: Session, cycles: Cycles, today: date
) -> dict[tuple[str, int], list[Milestone]]:
    """`replaced_cycles` for many accounts at once: milestones of cycles from today on that
    are not the account's current one (its renewal date moved). The accounts' own rows say
    which cycle is current, so the query reads only the replaced milestones."""
    found: dict[tuple[str, int], list[Milestone]] = {}
    if not cycles:
        return found
    values = {
        "teams": list({team for team, _ in cycles}),
        "ids": [account_id for _, account_id in cycles],
        "today": today,
    }
    for milestone in session.scalars(_REPLACED, values):
        key = (milestone.team_id, milestone.account_id)
        if key in cycles and cycles[key] != milestone.renewal_date:
            found.setdefault(key, []).append(milestone)
    return found


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
    return session.scalars(_MILESTONE, {"team": team_id, "id": milestone_id}).first()


# Statements built once (building one cost more than running it), the values as parameters.
_MILESTONE = select(Milestone).where(
    Milestone.team_id == bindparam("team"), Milestone.id == bindparam("id")
)
_OF_CYCLES = select(Milestone).where(
    Milestone.team_id.in_(bindparam("teams", expanding=True)),
    Milestone.account_id.in_(bindparam("ids", expanding=True)),
    Milestone.renewal_date.in_(bindparam("dates", expanding=True)),
)
_REPLACED = (
    select(Milestone)
    .join(Account, Account.id == Milestone.account_id)
    .where(
        Milestone.team_id.in_(bindparam("teams", expanding=True)),
        Milestone.account_id.in_(bindparam("ids", expanding=True)),
        # The ids said of both tables: PostgreSQL would otherwise read every account.
        Account.id.in_(bindparam("ids", expanding=True)),
        Milestone.renewal_date != Account.renewal_date,
        Milestone.renewal_date >= bindparam("today"),
    )
)


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
