"""Requests first (`bot.platform.serving`): the background's steps wait while this process
answers requests, for a bounded time."""

from __future__ import annotations

import asyncio
import threading

import aiohttp

from bot.platform import serving
from bot.platform.serving import Serving
from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver
from tests.helpers import closed_won, deal, until

HOUR = 3600.0


def _turn_elsewhere(gate: Serving, at_most: float) -> threading.Thread:
    """`gate.turn` on an event loop of its own, as the background's (in a thread)."""
    thread = threading.Thread(target=lambda: asyncio.run(gate.turn(at_most)))
    thread.start()
    return thread


async def test_a_turn_waits_for_the_requests_in_flight() -> None:
    gate = Serving()
    await asyncio.to_thread(_turn_elsewhere(gate, HOUR).join)  # nothing in flight: at once
    gate.begin()
    gate.begin()
    await gate.turn(HOUR)  # the loop answering them never waits for itself
    background = _turn_elsewhere(gate, HOUR)
    await until(lambda: gate.waiting == 1)
    gate.end()
    assert background.is_alive()  # one request still in flight
    gate.end()
    await asyncio.to_thread(background.join)
    assert gate.waiting == 0


async def test_a_turn_waits_no_longer_than_its_bound() -> None:
    gate = Serving()
    gate.begin()  # a request that never ends
    await asyncio.to_thread(_turn_elsewhere(gate, 0.01).join)
    assert gate.waiting == 0 and gate.in_flight == 1


async def test_the_set_up_queue_waits_for_the_answers_then_goes_on(
    settings, sandbox, people, monkeypatch
) -> None:  # noqa: ANN001
    monkeypatch.setattr(serving, "TURN_S", HOUR)
    server = BotServer(settings, tick_seconds=HOUR)
    await server.start(host="127.0.0.1", port=0)
    driver = SlackDriver(sandbox, server.url, settings.slack_signing_secret)
    gate = server.services.serving
    try:
        gate.begin()  # a request being answered
        reply = await closed_won(driver, deal())
        assert reply.status == 202 and reply.json["setup"] == "queued", reply.text
        await until(lambda: gate.waiting >= 1)  # the worker (or a tick), before the set-up
        assert sandbox.workspace.channel_by_name("acct-acme-robotics") is None
        gate.end()
        await until(lambda: sandbox.workspace.channel_by_name("acct-acme-robotics") is not None)
        async with (  # a refused request is counted out too
            aiohttp.ClientSession() as http,
            http.post(server.url + "/crm/closed-won", data=b"{") as answer,
        ):
            assert answer.status == 401
        assert gate.in_flight == 0
    finally:
        await driver.close()
        await server.stop()
