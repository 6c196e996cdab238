"""The ownership audit trail and coverage windows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlmodel import Session

from storage.db import require_write_lock
from storage.models import Coverage, OwnershipEvent, RenewalOutcome

_HOLDERS = ("ae_user_id", "csm_user_id", "am_user_id", "retention_model", "commercial")


@dataclass(frozen=True)
class Holders:
    """Who holds each role of an account, and under which model."""

    ae_user_id: str | None
    csm_user_id: str | None
    am_user_id: str | None
    retention_model: str
    commercial: str

    def user_of(self, role: str) -> str | None:
        return getattr(self, f"{role}_user_id", None)


def record_ownership(
    session: Session,
    team_id: str,
    account_id: int,
    holders: Holders,
    at: datetime,
    cause: str,
    actor: str | None = None,
    note: str | None = None,
) -> bool:
    """Append to the trail if anyone's role or the model changed; True if a row was added."""
    require_write_lock(session)
    latest = session.scalars(
        select(OwnershipEvent)
        .where(OwnershipEvent.team_id == team_id, OwnershipEvent.account_id == account_id)
        .order_by(OwnershipEvent.at.desc(), OwnershipEvent.id.desc())
        .limit(1)
        .with_for_update()
    ).first()
    if latest is not None and all(
        getattr(latest, name) == getattr(holders, name) for name in _HOLDERS
    ):
        return False
    session.add(
        OwnershipEvent(
            team_id=team_id,
            account_id=account_id,
            at=at,
            cause=cause,
            actor=actor,
            note=note,
            **{name: getattr(holders, name) for name in _HOLDERS},
        )
    )
    return True


def ownership_events(session: Session, team_id: str, account_id: int) -> list[OwnershipEvent]:
    return list(
        session.scalars(
            select(OwnershipEvent)
            .where(OwnershipEvent.team_id == team_id, OwnershipEvent.account_id == account_id)
            .order_by(OwnershipEvent.at, OwnershipEvent.id)
        )
    )


def start_coverage(session: Session, coverage: Coverage) -> list[Coverage]:
    """Record a coverage window; any window of the same person it overlaps ends where this
    one starts (one backup at a time). Returns the windows it cut short."""
    require_write_lock(session)
    overlapping = list(
        session.scalars(
            select(Coverage).where(
                Coverage.team_id == coverage.team_id,
                Coverage.user_id == coverage.user_id,
                Coverage.ends_at > coverage.starts_at,
                Coverage.starts_at < coverage.ends_at,
                Coverage.ended_early_at.is_(None),
            )
        )
    )
    _cut_short(overlapping, coverage.starts_at, coverage.created_at, coverage.created_by)
    session.add(coverage)
    session.flush()
    session.refresh(coverage)
    return overlapping


def end_coverage(
    session: Session, team_id: str, user_id: str, now: datetime, by: str
) -> list[Coverage]:
    """End every current or future window of `user_id` now; returns those ended."""
    require_write_lock(session)
    ended = list(
        session.scalars(
            select(Coverage).where(
                Coverage.team_id == team_id,
                Coverage.user_id == user_id,
                Coverage.ends_at > now,
                Coverage.ended_early_at.is_(None),
            )
        )
    )
    _cut_short(ended, now, now, by)
    return ended


def _cut_short(windows: list[Coverage], at: datetime, now: datetime, by: str) -> None:
    """End these windows at `at` (never before they began), recorded as ended early."""
    for window in windows:
        window.ended_early_at = now
        window.ended_by = by
        window.ends_at = max(window.starts_at, at)


def coverages_at(
    session: Session, team_id: str, at: datetime, user_ids: Iterable[str] | None = None
) -> dict[str, Coverage]:
    """The window in effect at `at` for each covered person (of `user_ids`, if given)."""
    values: dict[str, Any] = {"team": team_id, "at": at}
    if user_ids is not None:
        values["users"] = list(set(user_ids))
    statement = _coverages_statement(user_ids is not None)
    return {c.user_id: c for c in session.scalars(statement, values)}


@cache
def _coverages_statement(of_some: bool) -> Any:
    """`coverages_at`'s statement, built once per shape, the values as parameters."""
    at = bindparam("at")
    statement = select(Coverage).where(
        Coverage.team_id == bindparam("team"), Coverage.starts_at <= at, Coverage.ends_at > at
    )
    if of_some:
        statement = statement.where(Coverage.user_id.in_(bindparam("users", expanding=True)))
    return statement.order_by(Coverage.starts_at)


def covered_by(session: Session, team_id: str, backup: str, at: datetime) -> list[Coverage]:
    """The windows in which `backup` is covering someone at `at`."""
    return list(
        session.scalars(
            select(Coverage).where(
                Coverage.team_id == team_id,
                Coverage.backup_user_id == backup,
                Coverage.starts_at <= at,
                Coverage.ends_at > at,
            )
        )
    )


def coverage_history(session: Session, team_id: str, user_ids: Iterable[str]) -> list[Coverage]:
    """Every window (past, present, future) of these people, oldest first."""
    wanted = list(set(user_ids))
    return list(
        session.scalars(
            select(Coverage)
            .where(Coverage.team_id == team_id, Coverage.user_id.in_(wanted))
            .order_by(Coverage.starts_at, Coverage.id)
        )
    )


def upcoming_coverages(
    session: Session, team_id: str, start: datetime, end: datetime
) -> list[Coverage]:
    """Windows that begin or end within [start, end)."""
    return list(
        session.scalars(
            select(Coverage)
            .where(
                Coverage.team_id == team_id,
                Coverage.ends_at > Coverage.starts_at,
                or_(
                    (Coverage.starts_at >= start) & (Coverage.starts_at < end),
                    (Coverage.ends_at >= start) & (Coverage.ends_at < end),
                ),
            )
            .order_by(Coverage.starts_at)
        )
    )


def mark_handback_held(
    session: Session, team_id: str, account_id: int, renewal_date: date, by: str, now: datetime
) -> bool:
    """Record the hand-back call of the renewal that began the cycle ending `renewal_date`."""
    return bool(
        session.execute(
            update(RenewalOutcome)
            .where(
                RenewalOutcome.team_id == team_id,
                RenewalOutcome.account_id == account_id,
                RenewalOutcome.new_renewal_date == renewal_date,
                RenewalOutcome.handback_held_at.is_(None),
            )
            .values(handback_held_at=now, handback_held_by=by)
        ).rowcount
    )
