"""Queries on accounts."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, literal_column, or_, select, update
from sqlmodel import Session

from storage.db import due_values, insert_for, not_skipped, require_write_lock
from storage.models import Account, AccountStatus
from storage.names import accounts_with_words, index_names, words_of
from storage.wakeups import SETUP, announce


def create_account(session: Session, values: dict[str, Any]) -> tuple[Account, bool]:
    """Insert the account unless (team, crm_id) exists: (the account, whether it is new)."""
    statement = (
        insert_for(session)(Account)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["team_id", "crm_id"])
        .returning(Account.id)
    )
    new_id = session.execute(statement).scalar()
    if new_id is not None:
        index_names(session, [(new_id, values["team_id"], values["name"])])
    account = account_by_crm(session, values["team_id"], values["crm_id"])
    assert account is not None
    if new_id is not None and account.setup_due_at is not None:
        announce(session, SETUP)
    return account, new_id is not None


def create_accounts(
    session: Session, rows: list[dict[str, Any]]
) -> dict[tuple[str, str], tuple[Account, bool]]:
    """`create_account` for many deals in one statement: (team, crm_id) → (the account,
    whether this call created it). The rows must have the same keys."""
    if not rows:
        return {}
    table = Account.__table__
    statement = (
        insert_for(session)(table)
        .on_conflict_do_nothing(index_elements=["team_id", "crm_id"])
        .returning(table.c.id, table.c.team_id, table.c.crm_id, table.c.name)
    )
    created = session.execute(statement, rows).all()
    new = {(team, crm) for _, team, crm, _ in created}
    index_names(session, [(i, team, name) for i, team, _, name in created])
    if new:
        announce(session, SETUP)
    wanted: dict[str, set[str]] = {}
    for row in rows:
        wanted.setdefault(row["team_id"], set()).add(row["crm_id"])
    found: dict[tuple[str, str], tuple[Account, bool]] = {}
    for team_id, crm_ids in wanted.items():
        accounts = session.scalars(
            select(Account).where(Account.team_id == team_id, Account.crm_id.in_(crm_ids))
        )
        for account in accounts:
            key = (team_id, account.crm_id)
            found[key] = (account, key in new)
    return found


def get_account(session: Session, team_id: str, account_id: int) -> Account | None:
    return session.scalars(_ACCOUNT, {"team": team_id, "id": account_id}).first()


_ACCOUNT = select(Account).where(
    Account.team_id == bindparam("team"), Account.id == bindparam("id")
)


def account_by_crm(session: Session, team_id: str, crm_id: str) -> Account | None:
    return session.scalars(
        select(Account).where(Account.team_id == team_id, Account.crm_id == crm_id)
    ).first()


def locked_account(session: Session, team_id: str, account_id: int) -> Account:
    """The account's row, locked for this transaction (FOR UPDATE; SQLite: the session's
    BEGIN IMMEDIATE already holds the write lock)."""
    return session.scalars(_LOCKED_ACCOUNT, {"team": team_id, "id": account_id}).one()


_LOCKED_ACCOUNT = _ACCOUNT.with_for_update()


def update_account(session: Session, team_id: str, account_id: int, **values: Any) -> Account:
    # Read-then-write: IMMEDIATE on SQLite, or a concurrent writer makes the lock upgrade
    # fail at once with "database is locked" (the busy timeout does not cover it).
    require_write_lock(session)
    account = locked_account(session, team_id, account_id)
    for key, value in values.items():
        setattr(account, key, value)
    return account


def update_from_crm(
    session: Session,
    team_id: str,
    account_id: int,
    wanted: dict[str, Any],
    crm_time: datetime | None,
    now: datetime,
) -> tuple[Account, dict[str, tuple[Any, Any]]] | None:
    """Apply what the CRM says now, under the row lock: (the account, field → (old, new)),
    or None when this news is older than what the account already has from the CRM."""
    require_write_lock(session)
    account = locked_account(session, team_id, account_id)
    if crm_time and account.crm_updated_at and crm_time < account.crm_updated_at:
        return None
    changed = {
        key: (getattr(account, key), value)
        for key, value in wanted.items()
        if not _same(getattr(account, key), value)
    }
    for key, (_old, new) in changed.items():
        setattr(account, key, new)
        if key.endswith("_email"):
            setattr(account, key.replace("_email", "_user_id"), None)  # find the new person
    if changed:
        account.updated_at = account.plan_after = now
    if crm_time and (account.crm_updated_at is None or crm_time > account.crm_updated_at):
        account.crm_updated_at = crm_time
    return account, changed


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(old or 0) == Decimal(new or 0)
    return old == new


def set_channel_exposure(
    session: Session,
    team_id: str,
    account_id: int,
    shared_at: datetime | None,
    checked_at: datetime,
) -> Account:
    """Record whether the account channel is shared outside the company, as of `checked_at`
    (a first sighting keeps its time: it names the incident)."""
    require_write_lock(session)
    account = locked_account(session, team_id, account_id)
    if shared_at is None or account.channel_shared_at is None:
        account.channel_shared_at = shared_at
    account.channel_checked_at = checked_at
    return account


def set_once(
    session: Session, team_id: str, account_id: int, column: str, now: datetime, **also: Any
) -> bool:
    """Set a once-only timestamp (e.g. kickoff_held_at) if unset; True for the one who set it."""
    require_write_lock(session)
    account = locked_account(session, team_id, account_id)
    if getattr(account, column) is not None:
        return False
    setattr(account, column, now)
    for key, value in also.items():
        setattr(account, key, value)
    return True


def setup_due(
    session: Session, now: datetime, skip_teams: Collection[str] = (), limit: int = 50
) -> list[Account]:
    """Accounts whose set-up in Slack is owed by now, the longest waiting first."""
    statement = _setup_due_statement(limit, bool(skip_teams))
    return list(session.scalars(statement, due_values(now, skip_teams)))


@cache
def _setup_due_statement(limit: int, skipping: bool) -> Select:
    """`setup_due`'s statement, built once per shape, the values as parameters."""
    statement = select(Account).where(
        Account.setup_due_at.is_not(None), Account.setup_due_at <= bindparam("now")
    )
    if skipping:
        statement = statement.where(not_skipped(Account.team_id))
    return statement.order_by(Account.setup_due_at, Account.id).limit(limit)


def next_setup_due(session: Session) -> datetime | None:
    return session.scalar(select(func.min(Account.setup_due_at)))


def postpone_setup(
    session: Session, team_id: str, account_id: int, token: str, until: datetime
) -> None:
    """Slack's rate limits say wait: give up the lease and owe the set-up from `until`."""
    session.execute(
        update(Account)
        .where(Account.team_id == team_id, Account.id == account_id, Account.setup_token == token)
        .values(setup_token=None, setup_until=None, setup_due_at=until)
    )


def count_setup_due(session: Session, team_id: str) -> int:
    """Accounts waiting for their set-up in Slack (new, or changed in the CRM)."""
    return session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.team_id == team_id, Account.setup_due_at.is_not(None))
    )


def account_in_channel(session: Session, team_id: str, channel_id: str) -> Account | None:
    return session.scalars(
        select(Account).where(Account.team_id == team_id, Account.channel_id == channel_id)
    ).first()


def lease_setup(
    session: Session, team_id: str, account_id: int, now: datetime, lease: timedelta
) -> str | None:
    """A lease on setting the account up in Slack: one worker at a time, across processes.

    A worker that dies holding it only delays the next attempt until the lease runs out.
    """
    token = secrets.token_hex(8)
    statement = (
        update(Account)
        .where(
            Account.team_id == team_id,
            Account.id == account_id,
            or_(Account.setup_until.is_(None), Account.setup_until < now),
        )
        .values(setup_token=token, setup_until=now + lease)
    )
    return token if session.execute(statement).rowcount else None


def defer_setup(
    session: Session, team_id: str, account_id: int, token: str, until: datetime | None
) -> None:
    """Give up the set-up lease and keep anyone from taking it before `until` (Slack
    refused for a reason that will not pass in a tick); None: anyone may take it now."""
    statement = (
        update(Account)
        .where(Account.team_id == team_id, Account.id == account_id, Account.setup_token == token)
        .values(setup_token=None, setup_until=until)
    )
    session.execute(statement)


def release_setup(session: Session, team_id: str, account_id: int, token: str) -> None:
    defer_setup(session, team_id, account_id, token, None)


def search_accounts(session: Session, team_id: str, text: str, limit: int = 20) -> list[Account]:
    """Accounts whose CRM id, name or channel name is `text` (any case); else those whose
    name holds every word of it, in any order (storage.names)."""
    needle = " ".join(text.strip().lower().split())
    found: dict[int, Account] = {}
    # One indexed lookup per column: an OR across them makes SQLite scan the team.
    for column in (Account.crm_id, Account.name, Account.channel_name):
        for account in session.scalars(
            select(Account)
            .where(Account.team_id == team_id, func.lower(column) == needle)
            .limit(limit)
        ):
            found.setdefault(account.id, account)
    exact = sorted(found.values(), key=lambda a: (a.name, a.id))[:limit]
    if exact or not needle:
        return exact
    return accounts_with_words(session, team_id, words_of(text), limit)


def accounts_by_ids(session: Session, team_id: str, ids: list[int]) -> list[Account]:
    found = {
        a.id: a
        for a in session.scalars(
            select(Account).where(Account.team_id == team_id, Account.id.in_(ids))
        )
    }
    return [found[i] for i in ids if i in found]


@cache
def _due_statement(ids_only: bool, limit: int, skipping: bool) -> Select:
    """The accounts due for planning (their rows, or their ids), built once per shape, the
    values as parameters (`due_values`)."""
    columns = (Account.team_id, Account.id) if ids_only else (Account,)
    statement = select(*columns).where(
        Account.plan_after <= bindparam("now"), Account.provisioned_at.is_not(None)
    )
    if skipping:
        statement = statement.where(not_skipped(Account.team_id))
    return statement.order_by(Account.plan_after).limit(limit)


def due_for_planning(
    session: Session, now: datetime, limit: int = 500, skip_teams: Collection[str] = ()
) -> list[Account]:
    statement = _due_statement(False, limit, bool(skip_teams))
    return list(session.scalars(statement, due_values(now, skip_teams)))


def due_for_planning_ids(
    session: Session, now: datetime, limit: int = 500, skip_teams: Collection[str] = ()
) -> list[tuple[str, int]]:
    """(team, id) of the accounts `due_for_planning` would load, for reading them one by one."""
    statement = _due_statement(True, limit, bool(skip_teams))
    rows = session.execute(statement, due_values(now, skip_teams))
    return [(team_id, account_id) for team_id, account_id in rows]


_STILL_DUE = (  # built once, the accounts as parameters
    select(Account.team_id, Account.id, Account.plan_after)
    .where(
        Account.team_id.in_(bindparam("teams", expanding=True)),
        Account.id.in_(bindparam("ids", expanding=True)),
    )
    .with_for_update(skip_locked=True)
)


def set_plan_after(session: Session, team_id: str, account_id: int, when: datetime | None) -> None:
    session.execute(
        update(Account)
        .where(Account.team_id == team_id, Account.id == account_id)
        .values(plan_after=when)
    )


def still_due(
    session: Session, read: Mapping[tuple[str, int], datetime | None]
) -> set[tuple[str, int]]:
    """Of these accounts (read due for planning, with the `plan_after` they had), those whose
    `plan_after` is still what was read, locked for this unit: PostgreSQL skips rows another
    replica is planning (FOR UPDATE SKIP LOCKED), SQLite's unit holds the write lock. One
    planned or changed meanwhile is left out: the next tick plans it from what it is then."""
    require_write_lock(session)
    if not read:
        return set()
    values = {
        "teams": list({team for team, _ in read}),
        "ids": [account_id for _, account_id in read],
    }
    return {
        (team_id, account_id)
        for team_id, account_id, plan_after in session.execute(_STILL_DUE, values)
        if (team_id, account_id) in read and read[team_id, account_id] == plan_after
    }


def set_plans_after(session: Session, plans: Mapping[tuple[str, int], datetime | None]) -> None:
    """`set_plan_after` for many accounts: one statement, executed for each."""
    if not plans:
        return
    table = Account.__table__
    statement = (
        update(table)
        .where(table.c.team_id == bindparam("b_team"), table.c.id == bindparam("b_id"))
        .values(plan_after=bindparam("b_when"))
    )
    session.execute(
        statement,
        [{"b_team": t, "b_id": i, "b_when": when} for (t, i), when in plans.items()],
    )


def live_managers(session: Session) -> list[tuple[str, str]]:
    """(team, manager user id) of every account with a manager that has not churned: one
    step of ix_accounts_live_manager per workspace and per manager (a recursive query
    that skips from one to the next), not a read of every account."""
    found: list[tuple[str, str]] = []
    first_team, next_team, managers = _live_managers_statements()
    team = session.scalar(first_team)
    while team is not None:
        found += [(team, manager) for manager in session.scalars(managers, {"team": team})]
        team = session.scalar(next_team, {"team": team})
    return found


@cache
def _live_managers_statements() -> tuple[Select, Select, Select]:
    """`live_managers`' statements, built once (a tick reads them all), the team a
    parameter."""
    first_team = select(func.min(Account.team_id)).where(*_LIVE_MANAGED)
    next_team = first_team.where(Account.team_id > bindparam("team"))
    return first_team, next_team, _managers_of(bindparam("team"))


# ix_accounts_live_manager's condition, with literals (see storage.outbox._UNCERTAIN).
_LIVE_MANAGED = (
    Account.manager_user_id.is_not(None),
    Account.status != literal_column(f"'{AccountStatus.CHURNED}'"),
)


def _managers_of(team_id: Any) -> Select:
    def after(previous: Any) -> Any:
        return (
            select(func.min(Account.manager_user_id))
            .where(*_LIVE_MANAGED, Account.team_id == team_id, Account.manager_user_id > previous)
            .scalar_subquery()
        )

    first = select(func.min(Account.manager_user_id).label("manager")).where(
        *_LIVE_MANAGED, Account.team_id == team_id
    )
    managers = first.cte("managers", recursive=True)
    managers = managers.union_all(
        select(after(managers.c.manager)).where(managers.c.manager.is_not(None))
    )
    return select(managers.c.manager).where(managers.c.manager.is_not(None))


def next_planning(session: Session) -> datetime | None:
    """When the next account is due to be planned."""
    return session.scalar(select(func.min(Account.plan_after)))
