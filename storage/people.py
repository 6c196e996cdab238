"""Queries on people: the Slack users Baton addresses, with their time zones."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
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


def person_by_email(
    session: Session, team_id: str, email: str, refreshed_after: datetime
) -> Person | None:
    """The member of this workspace with this email (any case), as Slack described them
    since `refreshed_after`; None if Baton has not heard of them since (ask Slack)."""
    return session.scalars(
        select(Person)
        .where(
            Person.team_id == team_id,
            func.lower(Person.email) == email.strip().lower(),
            Person.refreshed_at >= refreshed_after,
            Person.deactivated_at.is_(None),
            Person.outsider.is_(False),
        )
        .order_by(Person.refreshed_at.desc())
        .limit(1)
    ).first()


def get_person(session: Session, team_id: str, user_id: str) -> Person | None:
    return session.scalars(
        select(Person).where(Person.team_id == team_id, Person.user_id == user_id)
    ).first()


def people_named(
    session: Session, named: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Person]:
    """What Baton knows of these people, by (team, user id), in one query."""
    if not named:
        return {}
    statement = select(Person).where(
        Person.team_id.in_({team for team, _ in named}),
        Person.user_id.in_({user_id for _, user_id in named}),
    )
    wanted = set(named)
    return {
        (p.team_id, p.user_id): p
        for p in session.scalars(statement)
        if (p.team_id, p.user_id) in wanted
    }
