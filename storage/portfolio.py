"""Reads behind the ownership views: whose accounts, what is due, what is late, what is red.

Every query here is bounded by an index (team + person, team + date) and a limit, so the
answers stay fast on a workspace with a hundred thousand accounts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.sql import Select
from sqlmodel import Session

from flows.close import CLOSE_STEP
from storage.models import (
    Account,
    AccountStatus,
    CloseCheckpoint,
    CloseStatus,
    HealthFlag,
    Milestone,
    MilestoneStatus,
    Packet,
    PacketRating,
    RenewalOutcome,
)

CHUNK = 500
NOT_YET = CloseStatus.NOT_YET.value
LIVE = (MilestoneStatus.OPEN, MilestoneStatus.SNOOZED)


@dataclass(frozen=True)
class Scope:
    """Whose accounts a view covers: a manager's team, some people's own, or everyone's."""

    team_id: str
    manager: str | None = None
    holders: tuple[str, ...] = ()
    everyone: bool = False

    def where(self, statement: Select) -> Select:
        statement = statement.where(Account.team_id == self.team_id)
        if self.everyone:
            return statement
        clauses = []
        if self.manager:
            clauses.append(Account.manager_user_id == self.manager)
        if self.holders:
            clauses += [column.in_(self.holders) for column in _HOLDER_COLUMNS]
        return statement.where(or_(*clauses)) if clauses else statement.where(False)


_HOLDER_COLUMNS = (Account.ae_user_id, Account.csm_user_id, Account.am_user_id)


def _live(statement: Select) -> Select:
    return statement.where(Account.status != AccountStatus.CHURNED)


def scoped_accounts(session: Session, scope: Scope, limit: int | None = None) -> list[Account]:
    statement = _live(scope.where(select(Account))).order_by(Account.renewal_date, Account.id)
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.scalars(statement))


def count_accounts(session: Session, scope: Scope) -> int:
    return session.scalar(_live(scope.where(select(func.count(Account.id))))) or 0


def _of_current_cycles(
    session: Session,
    accounts: Sequence[Account],
    model: type[Any],
    cycle_column: str,
    *conditions: Any,
    order_by: Sequence[Any] = (),
) -> list[Any]:
    """Rows of `model` for these accounts whose `cycle_column` is the account's current
    renewal date, read in chunks of account ids."""
    if not accounts:
        return []
    cycle = {a.id: a.renewal_date for a in accounts}
    ids = list(cycle)
    found = []
    for start in range(0, len(ids), CHUNK):
        # No ORDER BY here: sorting by due date in SQL lets the planner walk the team's
        # whole due-date index instead of looking up these accounts.
        rows = session.scalars(
            select(model).where(
                model.team_id == accounts[0].team_id,
                model.account_id.in_(ids[start : start + CHUNK]),
                *conditions,
            )
        )
        found += [r for r in rows if getattr(r, cycle_column) == cycle[r.account_id]]
    if order_by:
        found.sort(key=lambda row: tuple(getattr(row, column.key) for column in order_by))
    return found


def live_milestones(session: Session, accounts: Sequence[Account]) -> dict[int, list[Milestone]]:
    """The open or snoozed milestones of each account's current cycle, by due date."""
    by_account: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in _of_current_cycles(
        session,
        accounts,
        Milestone,
        "renewal_date",
        Milestone.status.in_(LIVE),
        order_by=(Milestone.due_date, Milestone.id),
    ):
        by_account[milestone.account_id].append(milestone)
    return by_account


def renewals_into(session: Session, accounts: Sequence[Account]) -> dict[int, RenewalOutcome]:
    """The renewal that started each account's current cycle, where there was one."""
    rows = _of_current_cycles(
        session,
        accounts,
        RenewalOutcome,
        "new_renewal_date",
        RenewalOutcome.outcome == "renewed",
    )
    return {outcome.account_id: outcome for outcome in rows}


def cycle_flags(session: Session, accounts: Sequence[Account]) -> dict[int, HealthFlag]:
    """The month-5 flag of each account's current cycle, where it has one."""
    rows = _of_current_cycles(session, accounts, HealthFlag, "renewal_date")
    return {flag.account_id: flag for flag in rows}


def milestones_between(
    session: Session, scope: Scope, first: date, last: date, limit: int = 200
) -> list[tuple[Milestone, Account]]:
    """Live milestones of the current cycles in scope falling due in [first, last]."""
    statement = (
        scope.where(select(Milestone, Account))
        .join(Account, Account.id == Milestone.account_id)
        .where(
            Milestone.team_id == scope.team_id,
            Milestone.due_date >= first,
            Milestone.due_date <= last,
            Milestone.status.in_(LIVE),
            Milestone.renewal_date == Account.renewal_date,
        )
        .order_by(Milestone.due_date, Milestone.id)
        .limit(limit)
    )
    return [(m, a) for m, a in session.execute(_live(statement))]


def overdue_milestones(
    session: Session, scope: Scope, today: date, now: datetime, limit: int = 200
) -> list[tuple[Milestone, Account]]:
    """Milestones of the current cycles past their day and neither done nor skipped (a
    snooze still running is not late), oldest first."""
    statement = (
        scope.where(select(Milestone, Account))
        .join(Account, Account.id == Milestone.account_id)
        .where(
            Milestone.team_id == scope.team_id,
            Milestone.due_date < today,
            Milestone.renewal_date == Account.renewal_date,
            Milestone.status.in_(LIVE),
            or_(Milestone.snoozed_until.is_(None), Milestone.snoozed_until <= now),
        )
        .order_by(Milestone.due_date, Milestone.id)
        .limit(limit)
    )
    return [(m, a) for m, a in session.execute(_live(statement))]


def red_accounts(
    session: Session, scope: Scope, limit: int = 200
) -> list[tuple[Account, HealthFlag]]:
    statement = (
        scope.where(select(Account, HealthFlag))
        .join(
            HealthFlag,
            and_(
                HealthFlag.account_id == Account.id,
                HealthFlag.renewal_date == Account.renewal_date,
            ),
        )
        .where(HealthFlag.team_id == scope.team_id, HealthFlag.health == "red")
        .order_by(Account.renewal_date, Account.id)
        .limit(limit)
    )
    return [(a, f) for a, f in session.execute(_live(statement))]


def pending_packets(
    session: Session, scope: Scope, limit: int = 200
) -> list[tuple[Account, Packet | None]]:
    """Accounts whose handoff packet is not complete, longest waiting first."""
    statement = (
        scope.where(select(Account, Packet))
        .outerjoin(Packet, and_(Packet.account_id == Account.id, Packet.team_id == Account.team_id))
        .where(Account.status == AccountStatus.HANDOFF_PENDING)
        .order_by(Account.closed_at, Account.id)
        .limit(limit)
    )
    return [(a, p) for a, p in session.execute(statement)]


def renewing_between(
    session: Session, scope: Scope, first: date, last: date, limit: int = 200
) -> list[Account]:
    statement = _live(
        scope.where(select(Account)).where(
            Account.renewal_date >= first, Account.renewal_date <= last
        )
    ).order_by(Account.renewal_date, Account.id)
    return list(session.scalars(statement.limit(limit)))


def count_renewing_between(session: Session, scope: Scope, first: date, last: date) -> int:
    statement = _live(
        scope.where(select(func.count(Account.id))).where(
            Account.renewal_date >= first, Account.renewal_date <= last
        )
    )
    return session.scalar(statement) or 0


def handover_candidates(
    session: Session, scope: Scope, windows: Sequence[tuple[str, date, date]], limit: int = 2000
) -> list[Account]:
    """Accounts whose close or renewal date falls in one of the windows (column, first,
    last): the only ones whose ownership can change in the week asked about."""
    clauses = []
    for column, first, last in windows:
        field = getattr(Account, column)
        clauses.append(and_(field >= first, field <= last))
    statement = _live(scope.where(select(Account)).where(or_(*clauses))).limit(limit)
    return list(session.scalars(statement))


def ratings_since(
    session: Session, scope: Scope, since: datetime, limit: int = 50
) -> list[tuple[PacketRating, Account]]:
    statement = (
        scope.where(select(PacketRating, Account))
        .join(Account, Account.id == PacketRating.account_id)
        .where(PacketRating.team_id == scope.team_id, PacketRating.created_at >= since)
        .order_by(PacketRating.created_at)
        .limit(limit)
    )
    return [(r, a) for r, a in session.execute(statement)]


def account_managers(session: Session, team_id: str | None = None) -> list[tuple[str, str]]:
    """(team, manager user id) of every account with a manager in Slack."""
    statement = (
        select(Account.team_id, Account.manager_user_id)
        .where(Account.manager_user_id.is_not(None), Account.status != AccountStatus.CHURNED)
        .distinct()
    )
    if team_id is not None:
        statement = statement.where(Account.team_id == team_id)
    return [(t, m) for t, m in session.execute(statement)]


def manages_any(session: Session, team_id: str, user_id: str) -> bool:
    return _exists(session, Account.team_id == team_id, Account.manager_user_id == user_id)


def is_known_ae(session: Session, team_id: str, user_id: str) -> bool:
    """Whether `user_id` is the AE of some account of the workspace."""
    return _exists(session, Account.team_id == team_id, Account.ae_user_id == user_id)


def manages_holder(session: Session, team_id: str, manager: str, holder: str) -> bool:
    """Whether `manager` manages an account on which `holder` is the AE, CSM or AM."""
    return _exists(
        session,
        Account.team_id == team_id,
        Account.manager_user_id == manager,
        or_(*(column == holder for column in _HOLDER_COLUMNS)),
    )


def _exists(session: Session, *conditions: Any) -> bool:
    return session.scalar(select(Account.id).where(*conditions).limit(1)) is not None


def unclosed_of(
    session: Session, accounts: Sequence[Account]
) -> dict[int, tuple[Milestone, CloseCheckpoint]]:
    """Each live account whose current cycle's month-10 checkpoint was answered "not yet":
    its checkpoint milestone and the answer."""
    live = [a for a in accounts if a.status != AccountStatus.CHURNED]
    answers = {
        c.account_id: c
        for c in _of_current_cycles(
            session, live, CloseCheckpoint, "renewal_date", CloseCheckpoint.status == NOT_YET
        )
    }
    steps = _of_current_cycles(
        session,
        [a for a in live if a.id in answers],
        Milestone,
        "renewal_date",
        Milestone.key == CLOSE_STEP,
    )
    return {m.account_id: (m, answers[m.account_id]) for m in steps}


def not_closed(
    session: Session, scope: Scope, limit: int = 200
) -> list[tuple[Milestone, CloseCheckpoint, Account]]:
    """`unclosed_of` for the week: the live accounts in scope whose current cycle was not
    closed by month 10 (answered "not yet"), by the checkpoint's day."""
    statement = (
        scope.where(select(Milestone, CloseCheckpoint, Account))
        .join(Account, Account.id == Milestone.account_id)
        .join(
            CloseCheckpoint,
            and_(
                CloseCheckpoint.account_id == Account.id,
                CloseCheckpoint.renewal_date == Account.renewal_date,
            ),
        )
        .where(
            Milestone.team_id == scope.team_id,
            CloseCheckpoint.team_id == scope.team_id,
            Milestone.key == CLOSE_STEP,
            Milestone.renewal_date == Account.renewal_date,
            CloseCheckpoint.status == NOT_YET,
        )
        .order_by(Milestone.due_date, Milestone.id)
        .limit(limit)
    )
    return [(m, c, a) for m, c, a in session.execute(_live(statement))]
