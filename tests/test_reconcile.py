"""Exactly once through timeouts, 5xx and dead workers: reconcile before any resend."""

import asyncio
import signal
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.outbox import deliver as delivery
from bot.outbox.deliver import METADATA_EVENT, deliver_due
from bot.outbox.reconcile import MAX_PAGES, PAGE_SIZE, READS_PER_PASS, SEND_LEASE, reconcile
from bot.platform.slack_client import make_client
from bot.runtime.runner import BotServer
from bot.sandbox import SlackSandbox
from bot.sandbox.server import Fault
from storage import outbox
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import OutboxMessage
from storage.types import UTCDateTime
from tests.helpers import clean_env, free_port, run_baton, until, wait_healthy
from tests.launch import launch

# Real time here: the sandbox stamps messages with the wall clock, and a claim is stamped
# with the `now` it is made at.


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def owe(db, sandbox: SlackSandbox, key: str, channel: str, due_at: datetime, **extra) -> int:  # noqa: ANN001
    return db.run_sync(
        outbox.enqueue,
        outbox.OwedMessage(
            team_id=sandbox.workspace.team_id,
            dedupe_key=key,
            channel=channel,
            text=f"nudge {key}",
            due_at=due_at,
            **extra,
        ),
    )


def texts(sandbox: SlackSandbox, user_id: str) -> list[str]:
    return [m.text for m in sandbox.workspace.dm_channel(user_id).messages]


def row(engine, row_id: int) -> OutboxMessage:  # noqa: ANN001
    with session_scope(engine) as session:
        return session.get(OutboxMessage, row_id)


def chatter(sandbox: SlackSandbox, channel: str, count: int, **extra) -> list[str]:
    """Other messages in the conversation (straight into the workspace: no rate limit)."""
    post = sandbox.workspace.api_chat_postMessage
    return [post({"channel": channel, "text": "chatter", **extra})["ts"] for _ in range(count)]


def reads(sandbox: SlackSandbox) -> int:
    return len(sandbox.calls_of("conversations.history")) + len(
        sandbox.calls_of("conversations.replies")
    )


@pytest.fixture
async def services(bot: BotServer):  # noqa: ANN201
    return bot.services


async def test_a_message_slack_accepted_is_recorded_not_resent(
    services, sandbox, people, now
) -> None:
    row_id = owe(services.db, sandbox, "a", people.csm.id, now)
    sandbox.inject("chat.postMessage", status=503, after_effect=True)
    assert (await deliver_due(services.db, services.sender, now)).unknown == [row_id]
    report = await reconcile(services, now + timedelta(minutes=1))
    assert report.found == [row_id]
    settled = row(services.engine, row_id)
    (message,) = sandbox.workspace.dm_channel(people.csm.id).messages
    assert (settled.status, settled.sent_ts) == ("sent", message.ts)


async def test_a_message_slack_never_got_is_owed_again_after_the_lease(
    services, sandbox, people, now
) -> None:
    row_id = owe(services.db, sandbox, "a", people.csm.id, now)
    sandbox.inject("chat.postMessage", status=500)
    await deliver_due(services.db, services.sender, now)
    assert texts(sandbox, people.csm.id) == []
    early = await reconcile(services, now + timedelta(minutes=1))
    assert early.undecided == [row_id] and row(services.engine, row_id).status == "unknown"
    report = await reconcile(services, now + SEND_LEASE + timedelta(seconds=1))
    assert report.released == [row_id] and row(services.engine, row_id).status == "pending"
    await deliver_due(services.db, services.sender, now + SEND_LEASE + timedelta(seconds=1))
    await reconcile(services, now + timedelta(minutes=5))
    assert texts(sandbox, people.csm.id) == ["nudge a"]
    assert row(services.engine, row_id).status == "sent"


async def test_a_slow_post_that_lands_after_an_early_read_is_found(
    services, sandbox, people, now
) -> None:
    """Nothing found before the lease ran out proves nothing: the post may be landing."""
    row_id = owe(services.db, sandbox, "a", people.csm.id, now)
    sandbox.inject("chat.postMessage", status=504)
    await deliver_due(services.db, services.sender, now)
    assert (await reconcile(services, now + timedelta(seconds=20))).undecided == [row_id]
    await services.sender.chat_postMessage(  # ...Slack finishes the post it had taken
        channel=people.csm.id,
        text="nudge a",
        metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row_id}},
    )
    before = reads(sandbox)
    assert (await reconcile(services, now + timedelta(seconds=90))).undecided == []
    assert reads(sandbox) == before  # not read again before the lease has run out
    report = await reconcile(services, now + SEND_LEASE + timedelta(seconds=1))
    assert report.found == [row_id] and report.released == []
    assert texts(sandbox, people.csm.id) == ["nudge a"]


async def test_a_dead_workers_claim_waits_for_its_lease(services, sandbox, people, now) -> None:
    landed = owe(services.db, sandbox, "landed", people.ae.id, now)
    lost = owe(services.db, sandbox, "lost", people.csm.id, now)
    claims = services.db.run_sync(
        outbox.claim_due, now, immediate=True
    )  # the worker claims both...
    landed_claim = next(c for c in claims if c.id == landed)
    await services.sender.chat_postMessage(  # ...Slack takes one, and the worker dies.
        channel=people.ae.id,
        text="nudge landed",
        metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": landed_claim.id}},
    )
    early = await reconcile(services, now + SEND_LEASE - timedelta(seconds=1))
    assert early.found == [] and early.released == []  # the worker might still be alive
    later = now + SEND_LEASE + timedelta(seconds=1)
    report = await reconcile(services, later)
    assert report.found == [landed] and report.released == [lost]
    assert (await deliver_due(services.db, services.sender, later)).sent == [lost]
    assert texts(sandbox, people.ae.id) == ["nudge landed"]
    assert texts(sandbox, people.csm.id) == ["nudge lost"]


async def test_thread_replies_are_found_in_their_thread(services, sandbox, people, now) -> None:
    parent = await services.sender.chat_postMessage(channel=people.csm.id, text="parent")
    row_id = owe(services.db, sandbox, "reply", people.csm.id, now, thread_ts=parent["ts"])
    sandbox.inject("chat.postMessage", status=502, after_effect=True)
    await deliver_due(services.db, services.sender, now)
    assert (await reconcile(services, now + timedelta(minutes=1))).found == [row_id]
    assert texts(sandbox, people.csm.id) == ["parent", "nudge reply"]


async def test_slack_trouble_while_reconciling_decides_nothing(
    services, sandbox, people, now
) -> None:
    row_id = owe(services.db, sandbox, "a", people.csm.id, now)
    sandbox.inject("chat.postMessage", status=500, after_effect=True)
    await deliver_due(services.db, services.sender, now)
    sandbox.inject("conversations.history", error="fatal_error")
    assert (await reconcile(services, now + timedelta(minutes=1))).undecided == [row_id]
    assert row(services.engine, row_id).status == "unknown"
    assert (await reconcile(services, now + timedelta(minutes=2))).found == [row_id]
    assert texts(sandbox, people.csm.id) == ["nudge a"]


async def test_a_message_pages_deep_in_a_busy_channel_is_found(
    services, sandbox, people, now
) -> None:
    channel = sandbox.workspace.add_channel("busy", [sandbox.workspace.bot.id]).id
    posted = owe(services.db, sandbox, "posted", channel, now)
    never = owe(services.db, sandbox, "never", channel, now)
    sandbox.inject("chat.postMessage", status=500, after_effect=True)
    sandbox.inject("chat.postMessage", status=503)
    await deliver_due(services.db, services.sender, now)
    chatter(sandbox, channel, 2 * PAGE_SIZE + 50)  # it is three pages down now
    report = await reconcile(services, now + SEND_LEASE + timedelta(seconds=1))
    assert report.found == [posted] and report.released == [never]
    assert reads(sandbox) == 3  # one read of the window, every page of it, for both rows
    (message,) = [m for m in sandbox.workspace.channels[channel].messages if m.metadata]
    assert row(services.engine, posted).sent_ts == message.ts


async def test_a_thread_read_back_follows_its_cursor(services, sandbox, people, now) -> None:
    channel = sandbox.workspace.add_channel("threads", [sandbox.workspace.bot.id]).id
    (parent,) = chatter(sandbox, channel, 1)
    row_id = owe(services.db, sandbox, "reply", channel, now, thread_ts=parent)
    chatter(sandbox, channel, PAGE_SIZE, thread_ts=parent)
    sandbox.inject("chat.postMessage", status=500, after_effect=True)
    await deliver_due(services.db, services.sender, now)
    assert (await reconcile(services, now + timedelta(minutes=1))).found == [row_id]
    assert len(sandbox.calls_of("conversations.replies")) == 2


@pytest.mark.parametrize("fault", [{"status": 503}, {"error": "internal_error"}, {"delay_s": 1.5}])
async def test_a_window_read_in_part_concludes_nothing(services, sandbox, now, fault) -> None:
    impatient = replace(services, sender=sender_with_timeout(sandbox, 1))
    channel = sandbox.workspace.add_channel("partly", [sandbox.workspace.bot.id]).id
    row_id = owe(services.db, sandbox, "a", channel, now)
    sandbox.inject("chat.postMessage", status=503)
    await deliver_due(services.db, services.sender, now)
    chatter(sandbox, channel, PAGE_SIZE + 1)
    # The first page reads; the second fails (a held answer outlasts the client's patience).
    pages = iter([None, Fault("conversations.history", 0, **fault)])
    sandbox.chaos = lambda method: next(pages, None) if method == "conversations.history" else None
    later = now + SEND_LEASE + timedelta(seconds=1)
    report = await reconcile(impatient, later)
    assert report.undecided == [row_id] and report.released == []
    assert row(services.engine, row_id).status == "unknown"
    before = reads(sandbox)
    assert (await reconcile(impatient, later + timedelta(seconds=5))).undecided == []
    assert reads(sandbox) == before  # a row that could not be read waits before the next read
    report = await reconcile(impatient, later + timedelta(minutes=2))
    assert report.released == [row_id]


async def test_a_rate_limited_read_waits_out_retry_after(services, sandbox, people, now) -> None:
    rows = [
        owe(services.db, sandbox, key, user.id, now)
        for key, user in zip("abc", (people.ae, people.csm, people.manager), strict=True)
    ]
    for _ in rows:
        sandbox.inject("chat.postMessage", status=503)
    await deliver_due(services.db, services.sender, now)
    sandbox.inject("conversations.history", status=429, retry_after=40)
    later = now + SEND_LEASE + timedelta(seconds=1)
    report = await reconcile(services, later)
    assert sorted(report.undecided) == sorted(rows)
    assert reads(sandbox) == 1  # no further read in that pass, for any row
    assert (await reconcile(services, later + timedelta(seconds=39))).undecided == []
    # The rate budget heard Retry-After too; its clock is the real one here.
    services.budget.clock = lambda: later + timedelta(seconds=40)
    report = await reconcile(services, later + timedelta(seconds=40))
    assert sorted(report.released) == sorted(rows)


async def test_a_pass_rations_its_reads(services, sandbox, now) -> None:
    bot = sandbox.workspace.bot.id
    channels = [sandbox.workspace.add_channel(f"c{n}", [bot]).id for n in range(READS_PER_PASS + 5)]
    rows = [owe(services.db, sandbox, c, c, now) for c in channels]
    for _ in rows:
        sandbox.inject("chat.postMessage", status=503)
    await deliver_due(services.db, services.sender, now)
    later = now + SEND_LEASE + timedelta(seconds=1)
    first = await reconcile(services, later)
    assert reads(sandbox) == READS_PER_PASS
    assert len(first.released) == READS_PER_PASS and len(first.undecided) == 5
    second = await reconcile(services, later + timedelta(seconds=30))
    assert sorted(first.released + second.released) == sorted(rows)


async def test_a_window_too_deep_to_read_stays_unknown(services, sandbox, now) -> None:
    channel = sandbox.workspace.add_channel("flooded", [sandbox.workspace.bot.id]).id
    row_id = owe(services.db, sandbox, "a", channel, now)
    sandbox.inject("chat.postMessage", status=503)
    await deliver_due(services.db, services.sender, now)
    chatter(sandbox, channel, MAX_PAGES * PAGE_SIZE + 1)
    report = await reconcile(services, now + SEND_LEASE + timedelta(seconds=1))
    assert report.undecided == [row_id] and reads(sandbox) == MAX_PAGES
    assert "pages" in row(services.engine, row_id).last_error


async def test_a_claim_not_sent_by_its_deadline_goes_back_unsent(
    engine, db, sandbox, people, now, monkeypatch
) -> None:
    """A slow batch must not post a claim so old that a reconciler may already doubt it:
    it goes back, and is sent under a fresh claim."""
    monkeypatch.setattr(delivery, "SEND_DEADLINE", timedelta(seconds=0.5))
    first = owe(db, sandbox, "first", people.ae.id, now)
    second = owe(db, sandbox, "second", people.ae.id, now)  # behind it in the same DM
    sandbox.inject("chat.postMessage", delay_s=0.8, status=503)  # the first post is slow
    report = await deliver_due(db, sender_with_timeout(sandbox, 2), now)
    assert report.unknown == [first] and report.deferred == [second]
    assert report.sent == [second]  # the next batch claimed it again
    assert len(sandbox.calls_of("chat.postMessage")) == 2
    assert row(engine, second).attempts == 2


def test_rows_in_flight_at_upgrade_get_a_safe_window(blank_database_url: str) -> None:
    """Before 0007, reconciling moved claimed_at past the attempt; the due time is a floor."""
    engine = make_engine(blank_database_url)
    upgrade(engine, "0006")
    due = datetime(2027, 1, 4, 9, tzinfo=UTC)
    legacy = sa.table(
        "outbox",
        *(sa.column(name) for name in ("team_id", "dedupe_key", "kind", "channel", "text")),
        *(sa.column(name) for name in ("status", "attempts")),
        *(sa.column(name, UTCDateTime()) for name in ("due_at", "claimed_at", "created_at")),
    )
    with engine.begin() as connection:
        for key, status in (("doubted", "unknown"), ("settled", "sent")):
            connection.execute(
                sa.insert(legacy).values(
                    team_id="T1",
                    dedupe_key=key,
                    kind="message",
                    channel="U1",
                    text=key,
                    status=status,
                    attempts=1,
                    due_at=due,
                    claimed_at=due + timedelta(hours=1),
                    created_at=due,
                )
            )
    upgrade(engine)
    with session_scope(engine) as session:
        claimed = dict(
            session.execute(sa.select(OutboxMessage.dedupe_key, OutboxMessage.claimed_at)).all()
        )
    engine.dispose()
    assert claimed == {"doubted": due, "settled": due + timedelta(hours=1)}


def sender_with_timeout(sandbox: SlackSandbox, seconds: float):  # noqa: ANN201
    return make_client(sandbox.workspace.bot_token, sandbox.api_url, timeout=seconds, waits=False)


@pytest.mark.parametrize("slack_has_it", [True, False])
async def test_kill_9_mid_send_neither_loses_nor_repeats(
    tmp_path: Path,
    sandbox: SlackSandbox,
    engine,
    db,
    database_url: str,
    people,
    slack_has_it: bool,
) -> None:
    """A real `baton run` is SIGKILLed while Slack holds its chat.postMessage open."""
    row_id = owe(db, sandbox, "k", people.csm.id, due_at=datetime.now(UTC) - timedelta(minutes=1))
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
    process = launch(["run"], env, tmp_path, tmp_path / "baton-run.log")
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", process)
        await until(lambda: row(engine, row_id).status == "sending")
        # The fault is taken (and with after_effect the post made) the moment the request
        # arrives; from then on Slack holds it open, so the kill lands mid-send.
        await until(lambda: sandbox.faults[0].times == 0)
    finally:
        process.send_signal(signal.SIGKILL)
        await process.wait()
    assert row(engine, row_id).status == "sending"  # died between Slack and the database
    assert texts(sandbox, people.csm.id) == (["nudge k"] if slack_has_it else [])
    later = (datetime.now(UTC) + SEND_LEASE + timedelta(minutes=1)).isoformat()
    result = await asyncio.to_thread(  # not database work: `baton tick` in a subprocess
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
