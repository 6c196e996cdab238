"""Wake-up calls: across threads, the web side puts work in a queue and the worker (on its
own event loop, in its own thread) is woken at once instead of at its next look; across
processes on PostgreSQL, the same through LISTEN/NOTIFY (`WorkListener`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping

from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
RECONNECT_S = 1.0
RECONNECT_MAX_S = 60.0


class Wake:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._pending = False  # a set no wait has seen yet (one before the first wait too)

    def set(self) -> None:
        """Safe from any thread. A set while nobody waits is kept for the next wait: work
        committed while the worker was still busy with its previous look is not missed."""
        self._pending = True
        loop, event = self._loop, self._event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # its loop has just closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, at_most: float) -> bool:
        """Until woken (by a `set` since the last wait: True) or `at_most` seconds pass."""
        if self._event is None or self._loop is not asyncio.get_running_loop():
            self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()
        if not self._pending:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), at_most)
        woken = self._pending or self._event.is_set()
        self._pending = False
        self._event.clear()
        return woken


def conninfo(database_url: str) -> str:
    """libpq's connection string for a SQLAlchemy URL, every parameter as SQLAlchemy reads
    it (a URL rendered back would carry a space in `options` as "+", which libpq keeps)."""
    from psycopg.conninfo import make_conninfo

    url = make_url(database_url)
    query = {key: value for key, value in url.query.items() if isinstance(value, str)}
    parts = {
        "host": url.host,
        "port": url.port,
        "dbname": url.database,
        "user": url.username,
        "password": url.password,
    }
    return make_conninfo(**{k: v for k, v in parts.items() if v is not None}, **query)


class WorkListener:
    """Wakes this process's workers when another process commits work for them: LISTEN on
    PostgreSQL's channels (storage.wakeups), each a `Wake`. A lost connection is opened
    again, less often the longer it stays lost; meanwhile the workers' own polls find the
    work, as they always do on SQLite."""

    def __init__(self, database_url: str, wakes: Mapping[str, Wake]) -> None:
        self._conninfo = conninfo(database_url)
        self._wakes = wakes
        self.listening = threading.Event()  # for tests: notices reach the workers now

    async def run(self) -> None:
        """Until cancelled."""
        import psycopg  # PostgreSQL's driver: loaded only where there is one

        pause = RECONNECT_S
        while True:
            try:
                await self._listen()
            except (psycopg.Error, OSError) as error:
                self.listening.clear()
                said = str(error).strip().splitlines() or [type(error).__name__]
                log.warning(
                    "not hearing of other processes' work (%s); the workers look on their own",
                    said[0],
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, RECONNECT_MAX_S)

    async def _listen(self) -> None:
        import psycopg
        from psycopg import sql

        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            row = await (await conn.execute("SELECT current_schema()")).fetchone()
            schema = row[0] if row else None
            for channel in self._wakes:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            for wake in self._wakes.values():  # what was committed while nobody listened
                wake.set()
            self.listening.set()
            async for notice in conn.notifies():
                wake = self._wakes.get(notice.channel)
                if wake is not None and notice.payload in (schema, ""):  # "": an older Baton
                    wake.set()
