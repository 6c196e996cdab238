"""A wake-up call across threads: the web side puts work in a queue, the worker (on its
own event loop, in its own thread) is woken at once instead of at its next look."""

from __future__ import annotations

import asyncio
import contextlib


class Wake:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    def set(self) -> None:
        """Safe from any thread; nothing happens while no worker listens."""
        loop, event = self._loop, self._event
        if loop is not None and event is not None:
            with contextlib.suppress(RuntimeError):  # its loop has just closed
                loop.call_soon_threadsafe(event.set)

    async def wait(self, at_most: float) -> None:
        """Until woken (by a `set` since the last wait) or `at_most` seconds pass."""
        if self._event is None or self._loop is not asyncio.get_running_loop():
            self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), at_most)
        self._event.clear()
