"""`Wake` (bot.platform.wake): a wake-up call is never lost, even one made before the
worker's first wait (while it was busy with its first look)."""

from __future__ import annotations

import asyncio

from bot.platform.wake import Wake

HOUR = 3600.0


async def test_a_set_before_the_first_wait_is_kept_for_it() -> None:
    wake = Wake()
    wake.set()
    assert await asyncio.wait_for(wake.wait(HOUR), 30)
    assert not await wake.wait(0)  # taken: the next wait waits


async def test_a_set_from_another_thread_wakes_the_waiter() -> None:
    wake = Wake()
    assert not await wake.wait(0)  # waiting on this loop from now on
    waiter = asyncio.create_task(wake.wait(HOUR))
    await asyncio.sleep(0)
    await asyncio.to_thread(wake.set)
    assert await asyncio.wait_for(waiter, 30)
