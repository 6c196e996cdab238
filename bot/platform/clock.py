"""Where "now" comes from. The bot takes a clock so the demo and tests can move time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock needs an aware start time")
        self._now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self._now

    def set(self, instant: datetime) -> None:
        if instant < self._now:
            raise ValueError("the simulated clock only moves forward")
        self._now = instant.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        self.set(self._now + delta)
        return self._now
