"""Exactly once through timeouts, 5xx and dead workers: reconcile before any resend."""

import asyncio
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.delivery import deliver_due
from bot.reconcile import SEND_LEASE, reconcile
from bot.runner import BotServer
from bot.sandbox import SlackSandbox
from storage import outbox
from storage.db import session_scope
from storage.models import OutboxMessage
from tests.helpers import BATON, clean_env, free_port, run_baton, until, wait_healthy

# Real time: the sandbox stamps messages with the wall clock, and history is read from the
# due time on.
NOW = datetime.now(UTC).replace(microsecond=0)


def owe(engine, sandbox: SlackSandbox, key: str, channel: str, **extra) -> int:  # noqa: ANN001
    return outbox.enqueue(
        engine,
        outbox.OwedMessage(
            team_id=sandbox.workspace.team_id,
            dedupe_key=key,
            channel=channel,
            text=f"nudge {key}",
            due_at=extra.pop("due_at", NOW),
            **extra,
        ),
    )


def texts(sandbox: SlackSandbox, user_id: str) -> list[str]:
    return [m.text for m in sandbox.workspace.dm_channel(user_id).messages]


def row(engine, row_id: int) -> OutboxMessage:  # noqa: ANN001
    with session_scope(engine) as session:
        return session.get(OutboxMessage, row_id)


@pytest.fixture
async def services(bot: BotServer):  # noqa: ANN201
    return bot.services


async def test_a_message_slack_accepted_is_recorded_not_resent(services, sandbox, people) -> None:
    row_id = owe(services.engine, sandbox, "a", people.csm.id)
    sandbox.inject("chat.postMessage", status=503, after_effect=True)
    assert (await deliver_due(services.engine, services.sender, NOW)).unknown == [row_id]
    report = await reconcile(services, NOW + timedelta(minutes=1))
    assert report.found == [row_id]
    settled = row(services.engine, row_id)
    (message,) = sandbox.workspace.dm_channel(people.csm.id).messages
    assert (settled.status, settled.sent_ts) == ("sent", message.ts)


async def test_a_message_slack_never_got_is_sent_once(services, sandbox, people) -> None:
    row_id = owe(services.engine, sandbox, "a", people.csm.id)
    sandbox.inject("chat.postMessage", status=500)
    await deliver_due(services.engine, services.sender, NOW)
    assert texts(sandbox, people.csm.id) == []
    report = await reconcile(services, NOW + timedelta(minutes=1))
    assert report.resent.sent == [row_id]
    await reconcile(services, NOW + timedelta(minutes=5))
    assert texts(sandbox, people.csm.id) == ["nudge a"]
    assert row(services.engine, row_id).status == "sent"


async def test_a_dead_workers_claim_waits_for_its_lease(services, sandbox, people) -> None:
    landed = owe(services.engine, sandbox, "landed", people.ae.id)
    lost = owe(services.engine, sandbox, "lost", people.csm.id)
    claims = outbox.claim_due(services.engine, NOW)  # the worker claims both...
    landed_claim = next(c for c in claims if c.id == landed)
    await services.sender.chat_postMessage(  # ...Slack takes one, and the worker dies.
        channel=people.ae.id,
        text="nudge landed",
        metadata={"event_type": "baton_outbox", "event_payload": {"outbox_id": landed_claim.id}},
    )
    early = await reconcile(services, NOW + SEND_LEASE - timedelta(seconds=1))
    assert early.found == [] and early.resent.sent == []  # the worker might still be alive
    report = await reconcile(services, NOW + SEND_LEASE + timedelta(seconds=1))
    assert report.found == [landed] and report.resent.sent == [lost]
    assert texts(sandbox, people.ae.id) == ["nudge landed"]
    assert texts(sandbox, people.csm.id) == ["nudge lost"]


async def test_thread_replies_are_found_in_their_thread(services, sandbox, people) -> None:
    parent = await services.sender.chat_postMessage(channel=people.csm.id, text="parent")
    row_id = owe(services.engine, sandbox, "reply", people.csm.id, thread_ts=parent["ts"])
    sandbox.inject("chat.postMessage", status=502, after_effect=True)
    await deliver_due(services.engine, services.sender, NOW)
    assert (await reconcile(services, NOW + timedelta(minutes=1))).found == [row_id]
    assert texts(sandbox, people.csm.id) == ["parent", "nudge reply"]


async def test_slack_trouble_while_reconciling_decides_nothing(services, sandbox, people) -> None:
    row_id = owe(services.engine, sandbox, "a", people.csm.id)
    sandbox.inject("chat.postMessage", status=500, after_effect=True)
    await deliver_due(services.engine, services.sender, NOW)
    sandbox.inject("conversations.history", error="fatal_error")
    assert (await reconcile(services, NOW + timedelta(minutes=1))).undecided == [row_id]
    assert row(services.engine, row_id).status == "unknown"
    assert (await reconcile(services, NOW + timedelta(minutes=2))).found == [row_id]
    assert texts(sandbox, people.csm.id) == ["nudge a"]


@pytest.mark.parametrize("slack_has_it", [True, False])
async def test_kill_9_mid_send_neither_loses_nor_repeats(
    tmp_path: Path, sandbox: SlackSandbox, engine, database_url: str, people, slack_has_it: bool
) -> None:
    """A real `baton run` is SIGKILLed while Slack holds its chat.postMessage open."""
    row_id = owe(
        engine, sandbox, "k", people.csm.id, due_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    # Slack either posts and then hangs (the answer never arrives) or hangs before posting.
    sandbox.inject("chat.postMessage", delay_s=8, status=500, after_effect=slack_has_it)
    port = free_port()
    env = clean_env(
        SLACK_BOT_TOKEN=sandbox.workspace.bot_token,
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=sandbox.api_url,
        DATABASE_URL=database_url,
        PORT=str(port),
        BATON_TICK_SECONDS="0.2",
    )
    process = await asyncio.create_subprocess_exec(
        *BATON,
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", process)
        await until(lambda: row(engine, row_id).status == "sending", within_s=15)
        await until(
            lambda: bool(sandbox.calls_of("chat.postMessage")) or sandbox.faults[0].times == 0,
            within_s=15,
        )
        await asyncio.sleep(0.3)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert row(engine, row_id).status == "sending"  # died between Slack and the database
    assert texts(sandbox, people.csm.id) == (["nudge k"] if slack_has_it else [])
    later = (datetime.now(UTC) + SEND_LEASE + timedelta(minutes=1)).isoformat()
    result = await asyncio.to_thread(
        run_baton,
        "tick",
        "--now",
        later,
        cwd=tmp_path,
        SLACK_BOT_TOKEN=sandbox.workspace.bot_token,
        SLACK_API_URL=sandbox.api_url,
        DATABASE_URL=database_url,
    )
    assert result.returncode == 0, result.stderr
    assert texts(sandbox, people.csm.id) == ["nudge k"]
    assert row(engine, row_id).status == "sent"
