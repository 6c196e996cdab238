"""Across processes on PostgreSQL: work a `--role web` process commits wakes the `--role
worker` processes at once (LISTEN/NOTIFY), not at their next look. Here the worker's own
looks are an hour apart, so only the wake-up can make it act within the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.handoff import setup_queue
from bot.outbox.owe import owe
from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver
from storage.outbox import OwedMessage
from tests.helpers import PG_URL, closed_won, deal, until

pytestmark = pytest.mark.skipif(not PG_URL, reason="LISTEN/NOTIFY is PostgreSQL's")
HOUR = 3600.0


@pytest.fixture
async def web_and_worker(settings, monkeypatch) -> AsyncIterator[tuple[BotServer, BotServer]]:  # noqa: ANN001
    monkeypatch.setattr(setup_queue, "IDLE_S", HOUR)
    worker = BotServer(settings, role="worker", tick_seconds=HOUR)
    web = BotServer(settings, role="web")
    await worker.start(host="127.0.0.1", port=0)
    await web.start(host="127.0.0.1", port=0)
    listener = worker._background.listener
    # Listening, and past the look it takes when it starts: from here on, only a
    # notification can wake it within the hour.
    await until(listener.listening.is_set)
    try:
        yield web, worker
    finally:
        await web.stop()
        await worker.stop()


async def test_a_deal_the_web_process_takes_is_set_up_by_the_worker_at_once(
    web_and_worker, sandbox, settings, people
) -> None:
    web, _worker = web_and_worker
    driver = SlackDriver(sandbox, web.url, settings.slack_signing_secret)
    try:
        reply = await closed_won(driver, deal())
        assert reply.status == 202 and reply.json["setup"] == "queued", reply.text
    finally:
        await driver.close()
    await until(lambda: sandbox.workspace.channel_by_name("acct-acme-robotics"), within_s=30)


async def test_a_message_the_web_process_owes_is_sent_by_the_worker_at_once(
    web_and_worker, sandbox, people
) -> None:
    web, _worker = web_and_worker
    message = OwedMessage(
        team_id=sandbox.workspace.team_id,
        dedupe_key="wake-test",
        channel=people.ae.id,
        text="owed by the web process",
        due_at=web.services.clock(),
    )
    assert await owe(web.services, message) == 1
    dm = sandbox.workspace.dm_channel(people.ae.id)
    await until(lambda: any(m.text == "owed by the web process" for m in dm.messages), 30)
