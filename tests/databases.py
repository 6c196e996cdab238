"""Databases for tests: one of its own for every test, at the latest migration.

Applying every Alembic migration costs about half a second, and most tests only need the
result. So each test process (each pytest-xdist worker) migrates one template once, and
every test gets a copy of it: on SQLite the template's file, on PostgreSQL a schema
re-created from `pg_dump` of the template's schema (without pg_dump, each test's schema is
migrated as before). A test about the migrations themselves asks for a blank database.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from bot.platform.settings import load_settings
from storage.db import make_engine
from storage.migrate import upgrade

# Commits that do not wait for their flush to disk: what a test sees is the same
# (PostgreSQL itself never crashes in one), at a fraction of the cost.
NO_FLUSH_WAIT = "-csynchronous_commit=off"


def migrated(url: str) -> None:
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()  # on SQLite this also folds the WAL back into the file


@contextmanager
def scratch_database(pg_url: str | None, directory: Path) -> Iterator[str]:
    """A blank database of one's own: a SQLite file in `directory`, or with `pg_url` a
    fresh PostgreSQL schema there (dropped afterwards)."""
    if not pg_url:
        yield f"sqlite:///{directory / 'baton.db'}"
        return
    with _schema(pg_url) as (url, _admin, _name):
        yield url


@dataclass
class SqliteTemplate:
    """A migrated SQLite file; a copy of it is a migrated database."""

    path: Path

    @contextmanager
    def copy(self, directory: Path) -> Iterator[str]:
        shutil.copyfile(self.path, directory / "baton.db")
        yield f"sqlite:///{directory / 'baton.db'}"


@dataclass
class PostgresTemplate:
    """A migrated schema's `pg_dump`, with its name replaced to make a copy (or, where
    pg_dump can't be run, no dump: each copy is migrated itself)."""

    pg_url: str
    name: str
    dump: str | None

    @contextmanager
    def copy(self, directory: Path) -> Iterator[str]:  # the directory: a SQLite template's
        with _schema(self.pg_url, create=self.dump is None) as (url, admin, name):
            if self.dump is None:
                migrated(url)
            else:
                with admin.begin() as connection:
                    connection.exec_driver_sql(self.dump.replace(self.name, name))
            yield url


@contextmanager
def template(pg_url: str | None, directory: Path) -> Iterator[SqliteTemplate | PostgresTemplate]:
    """This process's migrated template (removed afterwards)."""
    if not pg_url:
        path = directory / "template.db"
        migrated(f"sqlite:///{path}")
        yield SqliteTemplate(path)
        return
    with _schema(pg_url, prefix="template_") as (url, _admin, name):
        migrated(url)
        yield PostgresTemplate(pg_url, name, _dump(url, name))


@contextmanager
def _schema(
    pg_url: str, prefix: str = "t_", *, create: bool = True
) -> Iterator[tuple[str, Engine, str]]:
    """A schema with a name no other test or worker uses: (its URL, an engine on the
    database, its name). Dropped afterwards, whoever created it."""
    name = prefix + secrets.token_hex(6)
    url = load_settings(env_file=None, database_url=pg_url).database_url
    # No pool: a pg_dump script leaves settings (search_path) on its connection.
    admin = create_engine(url, poolclass=NullPool, connect_args={"options": NO_FLUSH_WAIT})
    if create:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{name}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={name} {NO_FLUSH_WAIT}"})
            .render_as_string(hide_password=False),
            admin,
            name,
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
        admin.dispose()


def _dump(url: str, schema: str) -> str | None:
    """The schema as SQL (its tables, indexes, constraints, sequences and rows), or None
    when pg_dump is missing or refuses (a client older than the server)."""
    parsed = make_url(url)
    libpq = parsed.set(drivername="postgresql", query={}).render_as_string(hide_password=False)
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    try:
        result = subprocess.run(
            ["pg_dump", "--dbname", libpq, "--schema", schema, "--inserts", "--no-owner"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    # psql's own commands (\restrict in recent versions) are not SQL.
    return "\n".join(line for line in result.stdout.splitlines() if not line.startswith("\\"))
