"""The work that is not answering Slack (the tick, the set-up queue, the hourly CRM sync), on an event loop of
its own in a thread of its own: a long tick never holds up a click or a slash command. On
PostgreSQL it also listens for the work other processes commit, and takes it at once."""

from __future__ import annotations

import asyncio
import contextlib
import threading

from bot.handoff.setup_queue import setup_worker
from bot.outbox.scheduler import Ticker
from bot.platform.services import Services
from bot.platform.slack_client import close_sessions
from bot.platform.wake import WorkListener
from storage.wakeups import OWED, SETUP

IDLE_WAIT_S = 3600.0  # a tick is asked for only by another process; the beat goes on


class Background:
    def __init__(self, services: Services, tick_seconds: float) -> None:
        self.services = services
        self.tick_seconds = tick_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self.listener: WorkListener | None = None
        if services.engine.dialect.name == "postgresql":
            wakes = {OWED: services.tick_wanted, SETUP: services.setup_wanted}
            self.listener = WorkListener(services.settings.database_url, wakes)
        self._thread = threading.Thread(target=self._run, name="baton-background", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # already closed
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        ticker = Ticker(self.services, self.tick_seconds)
        ticker.start()
        tasks = [
            asyncio.create_task(setup_worker(self.services), name="baton-setup"),
            asyncio.create_task(_tick_when_woken(self.services, ticker), name="baton-wake"),
        ]
        from bot.crm.sync import configured_crms, hourly_sync

        if configured_crms(self.services):
            tasks.append(asyncio.create_task(hourly_sync(self.services), name="baton-crm-sync"))
        if self.listener is not None:
            tasks.append(asyncio.create_task(self.listener.run(), name="baton-listen"))
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await ticker.stop()  # once nothing can ask for another tick
            await close_sessions(self.services.client, self.services.sender)


async def _tick_when_woken(services: Services, ticker: Ticker) -> None:
    while True:
        if await services.tick_wanted.wait(IDLE_WAIT_S):
            ticker.now()
