"""Retention-model pilots and their cohorts (`/baton pilot`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.db import require_write_lock
from storage.models import Pilot, PilotAccount


def pilots(session: Session, team_id: str) -> list[Pilot]:
    """The team's pilots, the newest first."""
    return list(
        session.scalars(
            select(Pilot)
            .where(Pilot.team_id == team_id)
            .order_by(Pilot.started_at.desc(), Pilot.id.desc())
        )
    )


def pilot_named(session: Session, team_id: str, name: str) -> Pilot | None:
    """The team's pilot of that name, in any case."""
    wanted = name.casefold()
    return next((p for p in pilots(session, team_id) if p.name.casefold() == wanted), None)


def pilot_account_ids(session: Session, team_id: str, pilot_id: int) -> list[int]:
    return list(
        session.scalars(
            select(PilotAccount.account_id)
            .where(PilotAccount.team_id == team_id, PilotAccount.pilot_id == pilot_id)
            .order_by(PilotAccount.account_id)
        )
    )


def cohorts(session: Session, team_id: str) -> dict[int, list[int]]:
    """Every pilot's account ids, by pilot id (one query)."""
    found: dict[int, list[int]] = {}
    rows = session.execute(
        select(PilotAccount.pilot_id, PilotAccount.account_id)
        .where(PilotAccount.team_id == team_id)
        .order_by(PilotAccount.pilot_id, PilotAccount.account_id)
    )
    for pilot_id, account_id in rows:
        found.setdefault(pilot_id, []).append(account_id)
    return found


def piloted(session: Session, team_id: str, account_ids: Iterable[int]) -> dict[int, Pilot]:
    """The pilot each of these accounts is already in (accounts in none are left out)."""
    wanted = list(set(account_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(PilotAccount.account_id, Pilot)
        .join(Pilot, Pilot.id == PilotAccount.pilot_id)
        .where(PilotAccount.team_id == team_id, PilotAccount.account_id.in_(wanted))
    )
    return {account_id: pilot for account_id, pilot in rows}


def add_pilot(
    session: Session,
    team_id: str,
    name: str,
    model: str,
    account_ids: Iterable[int],
    by: str,
    at: datetime,
) -> Pilot:
    """Record a pilot and its cohort (the caller has checked the name is free)."""
    require_write_lock(session)
    pilot = Pilot(team_id=team_id, name=name, model=model, started_at=at, started_by=by)
    session.add(pilot)
    session.flush()
    assert pilot.id is not None
    for account_id in dict.fromkeys(account_ids):
        session.add(PilotAccount(pilot_id=pilot.id, account_id=account_id, team_id=team_id))
    session.flush()
    return pilot
