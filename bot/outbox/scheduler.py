"""APScheduler provides only the heartbeat; the database says what is due."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbox.tick import run_tick
from bot.platform.services import Services

log = logging.getLogger(__name__)
TICK_SECONDS = 30
TICK_JOB = "baton-tick"


class _BusyBeat(logging.Filter):
    """A beat that finds the last tick still draining is skipped by design: not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


logging.getLogger("apscheduler.scheduler").addFilter(_BusyBeat())


def start_ticker(services: Services, seconds: float = TICK_SECONDS) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def tick() -> None:
        try:
            report = await run_tick(services)
        except Exception:
            log.exception("tick failed; the next one retries what is still due")
            return
        if report.sent or report.deferred or report.unknown or report.failed:
            log.info("tick: %s", report)

    # One tick at a time in this process; a missed beat is not worth catching up on,
    # since the next tick claims everything due anyway.
    scheduler.add_job(
        tick,
        "interval",
        seconds=seconds,
        id=TICK_JOB,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, round(seconds)),
    )
    scheduler.start()
    return scheduler


def tick_now(scheduler: AsyncIOScheduler) -> None:
    """Run the next tick now rather than at its beat (skipped if one is still draining: that
    one claims what is due anyway)."""
    scheduler.modify_job(TICK_JOB, next_run_time=datetime.now(UTC))
