"""Across processes on PostgreSQL: work a `--role web` process commits wakes the `--role
worker` processes at once (LISTEN/NOTIFY), not at their next look. Here the worker's own
looks are an hour apart, so only the wake-up can make it act within the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.handoff import setup_queue
from bot.outbox.owe import owe
from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver
from storage.outbox import OwedMessage
from tests.helpers import PG_URL, closed_won, deal, until

pytestmark = pytest.mark.skipif(not PG_URL, reason="LISTEN/NOTIFY is PostgreSQL's")
HOUR = 3600.0
NOW = datetime(2027, 1, 4, 15, tzinfo=UTC)


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


def test_owing_many_announces_only_what_it_really_added(db, database_url) -> None:  # noqa: ANN001
    """The planners owe in one statement (`enqueue_many`): owing them again (the dedupe
    keys already there) notifies nobody, so workers never wake one another for nothing."""
    import psycopg

    from bot.platform.wake import conninfo
    from storage.outbox import enqueue_many
    from storage.wakeups import OWED

    messages = [
        OwedMessage(team_id="T1", dedupe_key=f"k{n}", channel="U1", text="hi", due_at=NOW)
        for n in range(3)
    ]
    with psycopg.connect(conninfo(database_url), autocommit=True) as conn:
        conn.execute(f"LISTEN {OWED}")
        ours = conn.execute("SELECT current_schema()").fetchone()[0]

        def heard_before_a_mark() -> int:
            """What this schema announced so far (other tests' workers share the database and
            its channels): the mark, notified last, closes the list."""
            conn.execute(f"NOTIFY {OWED}, 'mark'")
            notices = iter(conn.notifies(timeout=30))
            heard = iter(lambda: next(notices).payload, "mark")
            return sum(1 for payload in heard if payload == ours)

        db.run_sync(enqueue_many, messages)
        assert heard_before_a_mark() == 1
        db.run_sync(enqueue_many, messages)  # all owed already
        assert heard_before_a_mark() == 0
        db.run_sync(enqueue_many, [*messages, replace(messages[0], dedupe_key="k9")])
        assert heard_before_a_mark() == 1


async def test_a_listener_hears_only_its_own_schema(database_url) -> None:  # noqa: ANN001
    """Two deployments in one database (different schemas) do not wake each other's workers."""
    import asyncio

    import psycopg

    from bot.platform.wake import Wake, WorkListener, conninfo
    from storage.wakeups import OWED, SETUP

    owed, setup = Wake(), Wake()
    listener = WorkListener(database_url, {OWED: owed, SETUP: setup})
    running = asyncio.create_task(listener.run())
    try:
        await until(listener.listening.is_set)
        await owed.wait(0), await setup.wait(0)  # the look it takes when it starts
        async with await psycopg.AsyncConnection.connect(
            conninfo(database_url), autocommit=True
        ) as conn:
            ours = (await (await conn.execute("SELECT current_schema()")).fetchone())[0]
            await conn.execute("SELECT pg_notify(%s, %s)", (OWED, f"not_{ours}"))
            await conn.execute("SELECT pg_notify(%s, %s)", (SETUP, ours))  # heard after it
        assert await setup.wait(30)
        assert not await owed.wait(0)
    finally:
        running.cancel()


def test_the_listener_connects_with_every_option_of_the_url(database_url) -> None:  # noqa: ANN001
    """Options with spaces (a search_path and a setting, as the tests' own URLs carry) reach
    PostgreSQL as written, so the listener hears its own schema's notices."""
    import psycopg
    from sqlalchemy.engine import make_url

    from bot.platform.wake import conninfo

    url = make_url(database_url).update_query_dict(
        {"options": "-csearch_path=baton_elsewhere -cstatement_timeout=4321"}
    )
    with psycopg.connect(conninfo(url.render_as_string(hide_password=False))) as conn:
        assert conn.execute("SHOW search_path").fetchone()[0] == "baton_elsewhere"
        assert conn.execute("SHOW statement_timeout").fetchone()[0] == "4321ms"
