"""One rate budget for every Slack call this workspace makes, in every process.

Before a call, the budget is asked for the limits it falls under (its method's tier; a
post also its channel's pace and the workspace's posting limit). It answers 0 (go) or
how long until the call would fit, and takes nothing then. Slack's own 429 is recorded
too (Retry-After), so the next caller waits instead of being refused again.

On PostgreSQL the count lives in the database (storage.budget), shared by every replica;
on SQLite, which serves one process, it lives in that process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from bot.platform.clock import Clock, system_clock
from bot.platform.tiers import POST_MESSAGE, Pace, channel_pace, method_pace, workspace_post_pace
from storage import budget as shared
from storage.budget import Limit, admit
from storage.db import Database

DEFAULT_POSTS_PER_MINUTE = 600


def _limit(key: str, pace: Pace) -> Limit:
    return Limit(key=key, interval=pace.interval, tolerance=pace.tolerance)


class Budget:
    """The count kept in this process (SQLite's one process, or a test's)."""

    def __init__(
        self,
        clock: Clock,
        posts_per_minute: int = DEFAULT_POSTS_PER_MINUTE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.clock = clock
        self._monotonic = monotonic
        self._started = monotonic()
        self.team_id = ""  # the workspace, once Slack has said which (bot.runtime.runner)
        self.enabled = True  # off only where a test turns the sandbox's limits off too
        self._workspace_post = _limit(POST_MESSAGE, workspace_post_pace(posts_per_minute))
        self._next_at: dict[str, float] = {}
        self._lock = threading.Lock()  # the web loop and the worker's share it

    def limits(self, method: str, channel: str | None) -> list[Limit]:
        if method == POST_MESSAGE:
            return [_limit(f"post:{channel or ''}", channel_pace()), self._workspace_post]
        return [_limit(method, method_pace(method))]

    def now(self) -> float:
        """Seconds since the epoch. A simulated clock (the demo's, a test's) stands still
        between its jumps, so real time since start is added to it: a wait still ends."""
        if self.clock is system_clock:
            return time.time()
        return self.clock().timestamp() + (self._monotonic() - self._started)

    async def take(self, method: str, channel: str | None = None) -> float:
        """0 when the call may go now (and it is counted); else the seconds to wait."""
        if not self.enabled:
            return 0.0
        return await self._admit(self.limits(method, channel), self.now())

    async def hold_off(self, method: str, channel: str | None, seconds: float) -> None:
        """Slack refused a call with Retry-After: no call under its limit before then.
        A refused post holds its channel only: other channels go on."""
        limit = self.limits(method, channel)[0]
        await self._hold(limit.key, self.now() + seconds + limit.tolerance)

    async def _admit(self, limits: Sequence[Limit], now: float) -> float:
        with self._lock:
            return admit(self._next_at, limits, now)

    async def _hold(self, key: str, next_at: float) -> None:
        with self._lock:
            self._next_at[key] = max(self._next_at.get(key, 0.0), next_at)


class SharedBudget(Budget):
    """The count kept in the database, for several processes on one PostgreSQL."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        posts_per_minute: int = DEFAULT_POSTS_PER_MINUTE,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(clock, posts_per_minute, monotonic)
        self.db = db

    async def _admit(self, limits: Sequence[Limit], now: float) -> float:
        return await self.db.run(shared.take, self.team_id, limits, now, immediate=True)

    async def _hold(self, key: str, next_at: float) -> None:
        await self.db.run(shared.hold_off, self.team_id, key, next_at)


def make_budget(db: Database, clock: Clock, posts_per_minute: int) -> Budget:
    if db.engine.dialect.name == "sqlite":
        return Budget(clock, posts_per_minute)
    return SharedBudget(db, clock, posts_per_minute)
