"""Engines in a test process share what SQLAlchemy compiled.

A test makes engines of its own (its database's, the bot's), and SQLAlchemy caches each
statement's compiled form per engine, keyed by the engine's dialect object: every test
would compile every statement it runs again. Engines of one kind of database here are
configured alike (`storage.db.make_engine`), so they can share one dialect object and one
cache, as SQLAlchemy's own `Engine.execution_options()` copies do. Production makes one
engine per process and is left as it is.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy
from sqlalchemy import Engine, event

import storage.db

_create_engine = sqlalchemy.create_engine
_shared: dict[tuple[type, str], tuple[Any, Any]] = {}


def _sharing(url: Any, **kwargs: Any) -> Engine:
    engine = _create_engine(url, **kwargs)
    kind = (type(engine.dialect), engine.dialect.dbapi.__name__)
    if kind not in _shared:
        # Shared once it has met its database (`Dialect.initialize` on the first connection).
        dialect, cache = engine.dialect, engine._compiled_cache
        event.listen(
            engine.pool, "first_connect", lambda *_: _shared.setdefault(kind, (dialect, cache))
        )
        return engine
    engine.dialect, engine._compiled_cache = _shared[kind]
    engine.pool._dialect = engine.dialect
    return engine


def share_compiled_statements() -> None:
    storage.db.create_engine = _sharing  # type: ignore[assignment]
