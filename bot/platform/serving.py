"""Requests first: background work (the tick, the set-up queue) gives way to the requests
this process is answering.

In `--role all` the background runs on its own event loop in its own thread, but Python
threads share one interpreter lock: a busy tick takes CPU from the answers, and a burst
of webhooks answered while the set-up queue works through their accounts is answered
slower. So each of the background's units of database work (`Database.turn`, set by
`make_services`; every step of the tick and the set-up queue begins with one) starts only
once no request is in flight, or after TURN_S whatever happens (a steady stream of requests slows it, never stops it).
Answers are what Slack and the CRM time; the queue's work is paced by Slack anyway.
"""

from __future__ import annotations

import asyncio
import time

from bot.platform.wake import Wake

TURN_S = 0.05  # the longest one background step waits for the requests in flight


class Serving:
    def __init__(self) -> None:
        self._in_flight = 0  # changed on the serving loop only; read from any thread
        self._idle = Wake()
        self.waiting = 0  # background units waiting for their turn (for tests)
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop answering requests

    def begin(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._in_flight += 1

    def end(self) -> None:
        self._in_flight -= 1
        if self._in_flight == 0:
            self._idle.set()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def turn(self, at_most: float | None = None) -> None:
        """Until no request is in flight, or `at_most` (TURN_S) seconds have passed; at once
        on the loop that answers them (a request's own work never waits for itself)."""
        if self._in_flight == 0 or asyncio.get_running_loop() is self._loop:
            return
        deadline = time.monotonic() + (TURN_S if at_most is None else at_most)
        self.waiting += 1
        try:
            while self._in_flight > 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                await self._idle.wait(left)
        finally:
            self.waiting -= 1
