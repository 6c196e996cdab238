"""Queries on check-ins and packet ratings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlmodel import Session

from storage.accounts import locked_account
from storage.db import changed, require_write_lock
from storage.models import Checkin, PacketRating

EDITABLE = (
    "checkin_date",
    "summary",
    "sentiment",
    "mismatch",
    "promised",
    "next_steps",
    "first_value",
)


def record_checkin(
    session: Session,
    team_id: str,
    account_id: int,
    submission_key: str,
    values: dict[str, Any],
    by: str,
    now: datetime,
) -> tuple[Checkin, bool]:
    """Store a new check-in under the next number: (it, whether it is new).

    The same submission twice (a double click, a redelivery) is the same check-in. The
    account's row is held while numbering, so two CSMs at once still get 5 and 6.
    """
    require_write_lock(session)
    existing = session.scalars(
        select(Checkin).where(Checkin.team_id == team_id, Checkin.submission_key == submission_key)
    ).first()
    if existing is not None:
        return existing, False
    locked_account(session, team_id, account_id)
    last = (
        session.scalar(
            select(func.max(Checkin.number)).where(
                Checkin.team_id == team_id, Checkin.account_id == account_id
            )
        )
        or 0
    )
    checkin = Checkin(
        team_id=team_id,
        account_id=account_id,
        number=last + 1,
        submission_key=submission_key,
        logged_by=by,
        created_at=now,
        updated_at=now,
        **{k: values.get(k) for k in EDITABLE},
    )
    session.add(checkin)
    session.flush()
    return checkin, True


def edit_checkin(
    session: Session, team_id: str, checkin_id: int, values: dict[str, Any], by: str, now: datetime
) -> Checkin:
    require_write_lock(session)
    checkin = session.scalars(
        select(Checkin).where(Checkin.team_id == team_id, Checkin.id == checkin_id)
    ).one()
    for key in EDITABLE:
        setattr(checkin, key, values.get(key))
    checkin.edited_by, checkin.updated_at = by, now
    return checkin


def get_checkin(session: Session, team_id: str, checkin_id: int) -> Checkin | None:
    return session.scalars(
        select(Checkin).where(Checkin.team_id == team_id, Checkin.id == checkin_id)
    ).first()


def set_posted(session: Session, team_id: str, checkin_id: int, channel: str, ts: str) -> None:
    session.execute(
        update(Checkin)
        .where(
            Checkin.team_id == team_id,
            Checkin.id == checkin_id,
        )
        .values(channel_id=channel, message_ts=ts)
    )


def clarify(
    session: Session, team_id: str, checkin_id: int, by: str, text: str, now: datetime
) -> bool:
    """Record the AE's answer to a mismatch; False if it was already answered."""
    return changed(
        session,
        update(Checkin)
        .where(
            Checkin.team_id == team_id,
            Checkin.id == checkin_id,
            Checkin.clarified_at.is_(None),
        )
        .values(clarified_at=now, clarified_by=by, clarification=text),
    )


def checked_in_since(session: Session, team_id: str, account_id: int, since: date) -> bool:
    return (
        session.scalar(
            select(func.count())
            .select_from(Checkin)
            .where(
                Checkin.team_id == team_id,
                Checkin.account_id == account_id,
                Checkin.checkin_date >= since,
            )
        )
        > 0
    )


def save_rating(
    session: Session,
    team_id: str,
    account_id: int,
    by: str,
    rating: int,
    missing: list[str],
    comment: str | None,
    now: datetime,
) -> bool:
    """The packet's rating (one per account, later ones replace it); True if it is new."""
    require_write_lock(session)
    existing = session.scalars(
        select(PacketRating).where(
            PacketRating.team_id == team_id, PacketRating.account_id == account_id
        )
    ).first()
    if existing is not None:
        existing.rated_by, existing.rating = by, rating
        existing.missing, existing.comment, existing.created_at = missing, comment, now
        return False
    session.add(
        PacketRating(
            team_id=team_id,
            account_id=account_id,
            rated_by=by,
            rating=rating,
            missing=missing,
            comment=comment,
            created_at=now,
        )
    )
    return True


def latest_ratings(session: Session, team_id: str, limit: int) -> list[PacketRating]:
    """The team's latest ratings, oldest first."""
    newest = session.scalars(
        select(PacketRating)
        .where(PacketRating.team_id == team_id)
        .order_by(PacketRating.created_at.desc(), PacketRating.id.desc())
        .limit(limit)
    )
    return list(reversed(list(newest)))
