"""APScheduler provides only the heartbeat; the database says what is due."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbox.tick import run_tick
from bot.platform.services import Services

log = logging.getLogger(__name__)
TICK_SECONDS = 30
TICK_JOB = "baton-tick"
STOP_GRACE_S = 10.0  # well inside the 30 s a process manager usually waits after SIGTERM


class _BusyBeat(logging.Filter):
    """A beat that finds the last tick still draining is skipped by design: not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_BusyBeat())


class Ticker:
    """The heartbeat: an interval job running `run_tick`, one at a time in this process."""

    def __init__(self, services: Services, seconds: float = TICK_SECONDS) -> None:
        self.services = services
        self._idle = asyncio.Event()
        self._idle.set()
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        # A missed beat is not worth catching up on: the next tick claims everything due.
        self.scheduler.add_job(
            self._tick,
            "interval",
            seconds=seconds,
            id=TICK_JOB,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, round(seconds)),
        )

    def start(self) -> None:
        self.scheduler.start()

    def now(self) -> None:
        """Run the next tick now rather than at its beat (skipped if one is still draining:
        that one claims what is due anyway)."""
        self.scheduler.modify_job(TICK_JOB, next_run_time=datetime.now(UTC))

    async def stop(self, grace_s: float = STOP_GRACE_S) -> None:
        """No more beats; a tick in progress gets `grace_s` to finish what it claimed."""
        self.scheduler.shutdown(wait=False)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), grace_s)

    async def _tick(self) -> None:
        self._idle.clear()
        try:
            report = await run_tick(self.services)
        except asyncio.CancelledError:
            # Stopped past its grace: what it had claimed is read back from Slack before
            # any resend (the outbox's reconcile), as after a crash.
            log.warning("a tick was cut short by shutdown; its claims are reconciled later")
            return
        except Exception:
            log.exception("tick failed; the next one retries what is still due")
            return
        finally:
            self._idle.set()
        if report.sent or report.deferred or report.unknown or report.failed:
            log.info("tick: %s", report)
