"""Queries on people: the Slack users Baton addresses, with their time zones."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlmodel import Session

from storage.db import upsert
from storage.models import Person

KEYS = ["team_id", "user_id"]


def upsert_person(session: Session, team_id: str, user_id: str, **columns: Any) -> None:
    """Store one person; `columns` are `person_row`'s."""
    upsert(session, Person, person_row(team_id, user_id, **columns), KEYS)


def person_row(
    team_id: str,
    user_id: str,
    *,
    email: str | None,
    real_name: str,
    tz: str | None,
    now: datetime,
    deactivated: bool = False,
    outsider: bool = False,
) -> dict[str, Any]:
    """A people row's columns, as `upsert_people` takes them."""
    return {
        "team_id": team_id,
        "user_id": user_id,
        "email": email,
        "real_name": real_name,
        "tz": tz,
        "refreshed_at": now,
        "deactivated_at": now if deactivated else None,
        "outsider": outsider,
    }


def upsert_people(
    session: Session, rows: Sequence[dict[str, Any]]
) -> dict[tuple[str, str], Person]:
    """Store these people (`person_row`s) and return them as stored, by (team, user id)."""
    for row in rows:
        upsert(session, Person, row, KEYS)
    return people_named(session, [(row["team_id"], row["user_id"]) for row in rows])


def deactivated_among(session: Session, team_id: str, user_ids: set[str]) -> set[str]:
    """Those of `user_ids` whom Slack reported deactivated."""
    if not user_ids:
        return set()
    return set(session.scalars(_DEACTIVATED, {"team": team_id, "users": list(user_ids)}))


_DEACTIVATED = select(Person.user_id).where(
    Person.team_id == bindparam("team"),
    Person.user_id.in_(bindparam("users", expanding=True)),
    Person.deactivated_at.is_not(None),
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
    return session.scalars(_PERSON, {"team": team_id, "user": user_id}).first()


_PERSON = select(Person).where(
    Person.team_id == bindparam("team"), Person.user_id == bindparam("user")
)


def people_named(
    session: Session, named: Collection[tuple[str, str]]
) -> dict[tuple[str, str], Person]:
    """What Baton knows of these people, by (team, user id), in one query."""
    if not named:
        return {}
    values = {
        "teams": list({team for team, _ in named}),
        "users": list({user_id for _, user_id in named}),
    }
    wanted = set(named)
    return {
        (p.team_id, p.user_id): p
        for p in session.scalars(_NAMED, values)
        if (p.team_id, p.user_id) in wanted
    }


_NAMED = select(Person).where(
    Person.team_id.in_(bindparam("teams", expanding=True)),
    Person.user_id.in_(bindparam("users", expanding=True)),
)
