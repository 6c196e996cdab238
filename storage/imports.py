"""Queries for `baton import`: many accounts at a time, by (team, crm_id) or by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text, update
from sqlmodel import Session

from storage.models import Account, OwnershipEvent
from storage.wakeups import SETUP, announce

IDS_PER_QUERY = 500  # well under SQLite's 999 bound parameters


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), IDS_PER_QUERY):
        yield values[start : start + IDS_PER_QUERY]


def accounts_by_crm_ids(
    session: Session, team_id: str, crm_ids: Sequence[str]
) -> dict[str, Account]:
    """crm_id → the account, for those of `crm_ids` the workspace has."""
    found: dict[str, Account] = {}
    for chunk in _chunks(crm_ids):
        statement = select(Account).where(Account.team_id == team_id, Account.crm_id.in_(chunk))
        found.update((a.crm_id, a) for a in session.scalars(statement))
    return found


def first_ownership(session: Session, events: list[dict[str, Any]]) -> None:
    """The first entry of each new account's ownership trail, in one statement (an account
    just created has no trail yet for `record_ownership` to compare against)."""
    if events:
        session.execute(OwnershipEvent.__table__.insert(), events)


def queue_setup(session: Session, team_id: str, ids: Sequence[int], now: datetime) -> int:
    """Owe the set-up in Slack of those of these accounts never set up nor queued (imported
    earlier without channels): how many were queued."""
    queued = 0
    for chunk in _chunks(ids):
        queued += session.execute(
            update(Account)
            .where(
                Account.team_id == team_id,
                Account.id.in_(chunk),
                Account.provisioned_at.is_(None),
                Account.setup_due_at.is_(None),
                Account.channel_id.is_(None),
            )
            .values(setup_due_at=now)
        ).rowcount
    if queued:
        announce(session, SETUP)
    return queued


def queued_setups(session: Session, team_id: str, ids: Sequence[int]) -> dict[int, datetime]:
    """Of these accounts, those whose set-up in Slack is still owed: id → from when."""
    found: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        statement = select(Account.id, Account.setup_due_at).where(
            Account.team_id == team_id, Account.id.in_(chunk), Account.setup_due_at.is_not(None)
        )
        found.update((account_id, due) for account_id, due in session.execute(statement))
    return found


def refresh_statistics(session: Session) -> None:
    """PostgreSQL's planner statistics of the accounts, after a bulk load outgrew them:
    with the statistics of a near-empty table, its generic plan for "these 500 crm_ids"
    (psycopg prepares a statement run five times) filters the whole workspace instead of
    using the (team, crm_id) index, 0.4 s a batch at 20,000 accounts. SQLite: nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE accounts"))
