"""One aiohttp session per event loop for the Web API clients, so Slack calls reuse their
connections (keep-alive) instead of opening one, and a TLS handshake, per call.

slack_sdk opens and closes a session of its own for every call made without one. A session
belongs to the loop it was made on, and Baton runs two (the one serving Slack, and the
background's thread), so each loop gets its own, made at its first call. Each is closed
when its loop shuts down: a loop run by `asyncio.run` (every one of Baton's) closes its
async generators before it closes, and a parked one holds the session open until then.
`close` closes the running loop's session sooner.

aiohttp retries a request on a kept-alive connection the server has just closed only for
idempotent methods; Slack's writes are POSTs, so a message is never sent twice by it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator
from weakref import WeakKeyDictionary

import aiohttp


class LoopSessions:
    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        # each session with the parked generator that closes it at its loop's shutdown
        self._open: WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[aiohttp.ClientSession, AsyncIterator[None]]
        ] = WeakKeyDictionary()

    def current(self) -> aiohttp.ClientSession | None:
        """The running loop's session (made now if it has none); None outside a loop, where
        slack_sdk makes one for the call."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        with self._lock:
            held = self._open.get(loop)
            if held is not None and not held[0].closed:
                return held[0]
            session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
            closer = _closed_at_shutdown(session)
            _park(closer)
            self._open[loop] = (session, closer)
            return session

    async def close(self) -> None:
        """Close the running loop's session, if it has one."""
        with self._lock:
            held = self._open.pop(asyncio.get_running_loop(), None)
        if held is not None:
            await held[0].close()


async def _closed_at_shutdown(session: aiohttp.ClientSession) -> AsyncIterator[None]:
    try:
        yield
    finally:
        await session.close()


def _park(closer: AsyncIterator[None]) -> None:
    """Run the generator to its `yield` at once (nothing before it awaits): the loop now
    counts it as one of its async generators, and closes it at shutdown."""
    with contextlib.suppress(StopIteration):
        closer.__anext__().send(None)  # type: ignore[attr-defined]
