"""Engines, sessions and units of work.

Storage functions take a `Session` and never open, commit or roll back a transaction:
the caller decides what one unit of work is. `Database.run` runs one unit in a worker
thread so the event loop never blocks on the database.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, bindparam, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session

from storage.wakeups import notify_at_commit

SQLITE_BUSY_TIMEOUT_MS = 10_000
IMMEDIATE = "baton_begin_immediate"
# What PostgreSQL says (at connect time psycopg has no SQLSTATE, only the server's words).
_NO_DATABASE = re.compile(r'database "[^"]*" does not exist')
_LOGIN_REFUSED = re.compile(r"authentication failed|no pg_hba.conf entry|role .* does not exist")
T = TypeVar("T")


class DatabaseUnusable(Exception):
    """The database can't be used as configured; the message says what to fix."""


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    notify_at_commit()  # other processes' workers LISTEN for the work a unit adds
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        folder = Path(database).parent
        if not folder.is_dir():
            raise DatabaseUnusable(
                f"DATABASE_URL names the SQLite file {database}, but the directory {folder} "
                "does not exist; create it or point DATABASE_URL elsewhere."
            )
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # SQLAlchemy drops FOR UPDATE on SQLite and pysqlite opens no transaction for a
        # SELECT, so a claim must take the write lock up front: BEGIN IMMEDIATE.
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def session_scope(engine: Engine, *, immediate: bool = False) -> Iterator[Session]:
    """A session that commits on success and rolls back on error.

    `immediate=True` takes SQLite's write lock at BEGIN; use it for read-then-write
    claims. PostgreSQL ignores it (claims there use FOR UPDATE SKIP LOCKED).
    """
    bind = engine.execution_options(**{IMMEDIATE: True}) if immediate else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@dataclass(frozen=True)
class Database:
    """Where units of work run: `fn(session, *args, **kwargs)` in one transaction that
    commits when `fn` returns and rolls back when it raises.

    `immediate=True` takes SQLite's write lock at BEGIN: a unit that reads then writes
    (a claim, anything that calls `require_write_lock`) needs it. `turn`, if given, is
    awaited before each unit (`bot.platform.serving`: background units give way to the
    requests being answered).
    """

    engine: Engine
    turn: Callable[[], Awaitable[None]] | None = None

    def run_sync(
        self, fn: Callable[..., T], /, *args: Any, immediate: bool = False, **kwargs: Any
    ) -> T:
        with session_scope(self.engine, immediate=immediate) as session:
            return fn(session, *args, **kwargs)

    async def run(
        self, fn: Callable[..., T], /, *args: Any, immediate: bool = False, **kwargs: Any
    ) -> T:
        if self.turn is not None:
            await self.turn()
        # The one worker-thread hop for database work.
        return await asyncio.to_thread(self.run_sync, fn, *args, immediate=immediate, **kwargs)

    async def on_engine(self, fn: Callable[..., T], /, *args: Any) -> T:
        """`fn(engine, *args)` in a worker thread, for what works on the engine itself and
        manages its own connection (migrations, a ping)."""
        return await asyncio.to_thread(fn, self.engine, *args)


def require_write_lock(session: Session) -> None:
    """Fail unless this transaction holds SQLite's write lock from its BEGIN.

    SQLite ignores FOR UPDATE, so a read-then-write in a plain transaction can neither
    serialise with another writer nor upgrade its lock when a concurrent writer holds it
    ("database is locked" at once; the busy timeout does not cover it)."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.get_execution_options().get(
        IMMEDIATE, False
    ):
        raise RuntimeError("this unit reads then writes: run it with immediate=True")


def changed(session: Session, statement: Any, params: dict[str, Any] | None = None) -> bool:
    """Run one UPDATE: True if it changed a row.

    The way to do something once: make the WHERE clause say "not done yet".

    A unit holding no objects has nothing for the ORM to bring up to date (or to flush
    first), so the statement goes straight to the connection: the ORM's bookkeeping for an
    UPDATE, which looks for the rows among the session's objects, costs several times the
    statement. A unit that loaded or added objects keeps it, and they see the change."""
    if session.identity_map or session.new or session.deleted:
        return bool(session.execute(statement, params).rowcount)
    return bool(session.connection().execute(statement, params).rowcount)


def is_outage(error: BaseException) -> bool:
    """Whether a database error means "unreachable or unusable right now" (the server is
    down, the file is gone, the connection dropped) rather than a bug in a statement."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


def outage_reason(error: BaseException) -> str:
    """The driver's own first line about it, e.g. "unable to open database file"."""
    cause = getattr(error, "orig", None) or error
    lines = str(cause).strip().splitlines() or [type(cause).__name__]
    return lines[0].strip().rstrip(".")


def outage_sentence(error: BaseException, url: str | URL) -> str:
    """One sentence for an operator: what is wrong with the database at `url`, and what
    to fix (the password is never shown)."""
    where = make_url(url)
    shown = where.render_as_string(hide_password=True)
    said = str(getattr(error, "orig", None) or error)
    if _NO_DATABASE.search(said):
        return (
            f"the database {where.database} does not exist on {where.host}:{where.port or 5432}; "
            "create it, or fix the database name in DATABASE_URL."
        )
    if _LOGIN_REFUSED.search(said):
        return (
            f"the database at {shown} refused the login; check the user and password in "
            "DATABASE_URL."
        )
    return (
        f"cannot use the database at {shown} ({outage_reason(error)}); check DATABASE_URL "
        "and that the database is running."
    )


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def insert_for(session: Session) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL spell it alike)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def upsert(session: Session, model: Any, values: dict[str, Any], keys: list[str]) -> None:
    """Insert a row, or update every non-key column of the row with the same keys."""
    statement = _upsert_statement(insert_for(session), model, tuple(values), tuple(keys))
    session.execute(statement, values)


@cache
def _upsert_statement(
    insert: Any, model: Any, columns: tuple[str, ...], keys: tuple[str, ...]
) -> Any:
    """`upsert`'s statement for one shape, built once (building it cost more than running
    it), the values as parameters."""
    statement = insert(model.__table__).values(column_params(model.__table__, columns))
    return statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={column: statement.excluded[column] for column in columns if column not in keys},
    )


def not_skipped(team_column: Any) -> Any:
    """The term "of none of the teams skipped" of a statement built once: its teams are the
    parameter `skip_teams` (`due_values`). A shape of its own, added only when some are."""
    return team_column.not_in(bindparam("skip_teams", expanding=True))


def due_values(now: datetime, skip_teams: Collection[str]) -> dict[str, Any]:
    """The parameters of a statement built once for "due by `now`" (`now`), with the term
    `not_skipped` when there are teams to skip."""
    return {"now": now, "skip_teams": list(skip_teams)} if skip_teams else {"now": now}


def column_params(table: Any, columns: tuple[str, ...], prefix: str = "") -> dict[str, Any]:
    """A statement's values for these columns as parameters named `prefix` + column, each
    of its column's type: for a statement built once and run with each call's values."""
    return {column: bindparam(prefix + column, type_=table.c[column].type) for column in columns}
