"""Queries on how renewal cycles go: month-5 health flags and renewal outcomes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.accounts import locked_account
from storage.db import require_write_lock
from storage.models import (
    Account,
    AccountStatus,
    HealthFlag,
    Milestone,
    MilestoneStatus,
    OutboxMessage,
    OutboxStatus,
    RenewalOutcome,
)


def save_flag(
    session: Session, account: Account, by: str, now: datetime, **answers: Any
) -> tuple[HealthFlag, HealthFlag | None]:
    """Record this cycle's month-5 flag (a later flag replaces it): (flag, the one before)."""
    require_write_lock(session)
    flag = session.scalars(
        select(HealthFlag)
        .where(
            HealthFlag.team_id == account.team_id,
            HealthFlag.account_id == account.id,
            HealthFlag.renewal_date == account.renewal_date,
        )
        .with_for_update()
    ).first()
    before = HealthFlag(**flag.model_dump()) if flag else None
    if flag is None:
        flag = HealthFlag(
            team_id=account.team_id,
            account_id=account.id,
            renewal_date=account.renewal_date,
            flagged_by=by,
            flagged_at=now,
            **answers,
        )
        session.add(flag)
    else:
        for key, value in answers.items():
            setattr(flag, key, value)
        flag.flagged_by, flag.flagged_at = by, now
    session.flush()
    return HealthFlag(**flag.model_dump()), before


def cycle_flag(
    session: Session, team_id: str, account_id: int, renewal_date: date
) -> HealthFlag | None:
    return session.scalars(
        select(HealthFlag).where(
            HealthFlag.team_id == team_id,
            HealthFlag.account_id == account_id,
            HealthFlag.renewal_date == renewal_date,
        )
    ).first()


def cycle_flags(
    session: Session, cycles: Mapping[tuple[str, int], date]
) -> dict[tuple[str, int], HealthFlag]:
    """`cycle_flag` for many accounts at once: each current cycle's flag, where it has one."""
    if not cycles:
        return {}
    values = {
        "teams": list({team for team, _ in cycles}),
        "ids": [account_id for _, account_id in cycles],
    }
    return {
        (flag.team_id, flag.account_id): flag
        for flag in session.scalars(_FLAGS, values)
        if cycles.get((flag.team_id, flag.account_id)) == flag.renewal_date
    }


_FLAGS = select(HealthFlag).where(  # built once, the accounts as parameters
    HealthFlag.team_id.in_(bindparam("teams", expanding=True)),
    HealthFlag.account_id.in_(bindparam("ids", expanding=True)),
)


def concluded_cycles_of(
    session: Session, accounts: Collection[tuple[str, int]]
) -> dict[tuple[str, int], set[date]]:
    """`concluded_cycles` for many accounts at once."""
    found: dict[tuple[str, int], set[date]] = {key: set() for key in accounts}
    if not accounts:
        return found
    statement = select(
        RenewalOutcome.team_id, RenewalOutcome.account_id, RenewalOutcome.renewal_date
    ).where(
        RenewalOutcome.team_id.in_({team for team, _ in accounts}),
        RenewalOutcome.account_id.in_([account_id for _, account_id in accounts]),
    )
    for team_id, account_id, renewal_date in session.execute(statement):
        if (team_id, account_id) in found:
            found[team_id, account_id].add(renewal_date)
    return found


def concluded_cycles(session: Session, team_id: str, account_id: int) -> set[date]:
    """Renewal dates of cycles that ended with a recorded outcome."""
    return set(
        session.scalars(
            select(RenewalOutcome.renewal_date).where(
                RenewalOutcome.team_id == team_id, RenewalOutcome.account_id == account_id
            )
        )
    )


def record_renewal(
    session: Session,
    team_id: str,
    account_id: int,
    *,
    cycle: date,
    new_date: date,
    new_arr: Decimal,
    by: str,
    note: str | None,
    now: datetime,
) -> RenewalOutcome | None:
    """Close the cycle ending on `cycle` as renewed and start the next one, in one
    transaction; None if this cycle already has an outcome (a double click)."""
    require_write_lock(session)
    try:  # a savepoint: a duplicate outcome leaves the caller's transaction usable
        with session.begin_nested():
            account = locked_account(session, team_id, account_id)
            if account.renewal_date != cycle or account.status == AccountStatus.CHURNED:
                return None
            outcome = _close(
                session,
                account,
                outcome="renewed",
                new_renewal_date=new_date,
                new_arr=new_arr,
                note=note,
                effective_date=cycle,
                recorded_by=by,
                recorded_at=now,
            )
            account.renewal_date, account.arr = new_date, new_arr
            account.updated_at = account.plan_after = now
            return outcome
    except IntegrityError:
        return None


def record_churn(
    session: Session,
    team_id: str,
    account_id: int,
    *,
    reason: str,
    effective: date,
    by: str,
    note: str | None,
    now: datetime,
) -> RenewalOutcome | None:
    """Mark the account churned, skip its open milestones and cancel everything still owed
    about it, in one transaction; None if it had already churned."""
    require_write_lock(session)
    try:  # a savepoint: a duplicate outcome leaves the caller's transaction usable
        with session.begin_nested():
            account = locked_account(session, team_id, account_id)
            if account.status == AccountStatus.CHURNED:
                return None
            outcome = _close(
                session,
                account,
                outcome="churned",
                reason=reason,
                note=note,
                effective_date=effective,
                recorded_by=by,
                recorded_at=now,
            )
            session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.team_id == team_id,
                    OutboxMessage.account_id == account_id,
                    OutboxMessage.status == OutboxStatus.PENDING,
                )
                .values(status=OutboxStatus.CANCELLED, last_error="account churned")
            )
            account.status, account.churned_at = AccountStatus.CHURNED, now
            account.updated_at, account.plan_after = now, None
            return outcome
    except IntegrityError:
        return None


def _close(session: Any, account: Account, **values: Any) -> RenewalOutcome:
    """Record how the account's current cycle ended and skip the milestones still open
    (every cycle's, once churned). A second outcome for the cycle raises IntegrityError."""
    outcome = RenewalOutcome(
        team_id=account.team_id,
        account_id=account.id,
        renewal_date=account.renewal_date,
        prior_arr=account.arr,
        **values,
    )
    session.add(outcome)
    conditions = [
        Milestone.team_id == account.team_id,
        Milestone.account_id == account.id,
        Milestone.status.in_([MilestoneStatus.OPEN, MilestoneStatus.SNOOZED]),
    ]
    if values["outcome"] == "renewed":
        conditions.append(Milestone.renewal_date == account.renewal_date)
    session.execute(update(Milestone).where(*conditions).values(status=MilestoneStatus.SKIPPED))
    session.flush()
    return RenewalOutcome(**outcome.model_dump())


def account_outcomes(session: Session, team_id: str, account_id: int) -> list[RenewalOutcome]:
    """Every recorded end of a renewal cycle of the account, oldest first."""
    return list(
        session.scalars(
            select(RenewalOutcome)
            .where(RenewalOutcome.team_id == team_id, RenewalOutcome.account_id == account_id)
            .order_by(RenewalOutcome.recorded_at, RenewalOutcome.id)
        )
    )
