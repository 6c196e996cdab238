"""Queries on people: the Slack users Baton addresses, with their time zones."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.db import upsert
from storage.models import Person


def upsert_person(
    session: Session,
    team_id: str,
    user_id: str,
    *,
    email: str | None,
    real_name: str,
    tz: str | None,
    now: datetime,
    deactivated: bool = False,
    outsider: bool = False,
) -> None:
    values = {
        "team_id": team_id,
        "user_id": user_id,
        "email": email,
        "real_name": real_name,
        "tz": tz,
        "refreshed_at": now,
        "deactivated_at": now if deactivated else None,
        "outsider": outsider,
    }
    upsert(session, Person, values, ["team_id", "user_id"])


def deactivated_among(session: Session, team_id: str, user_ids: set[str]) -> set[str]:
    """Those of `user_ids` whom Slack reported deactivated."""
    if not user_ids:
        return set()
    return set(
        session.scalars(
            select(Person.user_id).where(
                Person.team_id == team_id,
                Person.user_id.in_(user_ids),
                Person.deactivated_at.is_not(None),
            )
        )
    )


def get_person(session: Session, team_id: str, user_id: str) -> Person | None:
    return session.scalars(
        select(Person).where(Person.team_id == team_id, Person.user_id == user_id)
    ).first()
