"""The outbox delivered through the sandbox: nothing lost, nothing sent twice."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox.deliver import METADATA_EVENT, deliver_due
from bot.platform.settings import Settings
from bot.platform.slack_client import make_client
from bot.runtime.runner import make_services
from bot.sandbox import SlackSandbox
from storage import outbox
from storage.db import Database, make_engine

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)


def owed(sandbox: SlackSandbox, key: str, channel: str, due: datetime = NOW) -> outbox.OwedMessage:
    return outbox.OwedMessage(
        team_id=sandbox.workspace.team_id,
        dedupe_key=key,
        channel=channel,
        text=f"nudge {key}",
        due_at=due,
    )


@pytest.fixture
def sender(sandbox: SlackSandbox):
    return make_client(sandbox.workspace.bot_token, sandbox.api_url, waits=False, timeout=1)


def dm_texts(sandbox: SlackSandbox, user_id: str) -> list[str]:
    return [m.text for m in sandbox.workspace.dm_channel(user_id).messages]


async def test_due_messages_are_sent_once_with_their_outbox_id(
    db, sandbox: SlackSandbox, sender, people
) -> None:
    db.run_sync(outbox.enqueue, owed(sandbox, "a", people.csm.id))
    db.run_sync(outbox.enqueue, owed(sandbox, "b", people.csm.id, NOW + timedelta(hours=1)))
    report = await deliver_due(db, sender, NOW)
    assert len(report.sent) == 1
    (message,) = sandbox.workspace.dm_channel(people.csm.id).messages
    assert message.text == "nudge a"
    assert message.metadata == {
        "event_type": METADATA_EVENT,
        "event_payload": {"outbox_id": report.sent[0]},
    }
    again = await deliver_due(db, sender, NOW + timedelta(minutes=30))
    assert again.sent == [] and dm_texts(sandbox, people.csm.id) == ["nudge a"]
    later = await deliver_due(db, sender, NOW + timedelta(hours=1))
    assert len(later.sent) == 1
    assert dm_texts(sandbox, people.csm.id) == ["nudge a", "nudge b"]


async def test_rate_limited_message_is_owed_again_after_retry_after(
    db, sandbox: SlackSandbox, sender, people
) -> None:
    db.run_sync(outbox.enqueue, owed(sandbox, "a", people.ae.id))
    sandbox.inject("chat.postMessage", status=429, retry_after=7)
    report = await deliver_due(db, sender, NOW)
    assert report.deferred and dm_texts(sandbox, people.ae.id) == []
    assert (await deliver_due(db, sender, NOW + timedelta(seconds=6))).sent == []
    assert len((await deliver_due(db, sender, NOW + timedelta(seconds=7))).sent) == 1
    assert dm_texts(sandbox, people.ae.id) == ["nudge a"]


@pytest.mark.parametrize("fault", [{"status": 500}, {"status": 503}, {"delay_s": 1.5}])
async def test_unknown_outcomes_are_never_blindly_resent(
    db, sandbox: SlackSandbox, sender, people, fault
) -> None:
    db.run_sync(outbox.enqueue, owed(sandbox, "a", people.ae.id))
    sandbox.inject("chat.postMessage", after_effect=True, **fault)
    report = await deliver_due(db, sender, NOW)
    assert report.unknown and not report.sent
    assert (await deliver_due(db, sender, NOW + timedelta(hours=1))).sent == []
    # Slack did take it; exactly one copy exists.
    assert dm_texts(sandbox, people.ae.id) == ["nudge a"]
    assert db.run_sync(outbox.count_by_status, sandbox.workspace.team_id) == {"unknown": 1}


async def test_sending_client_never_retries_by_itself(
    db, sandbox: SlackSandbox, sender, people
) -> None:
    assert sender.retry_handlers == []
    db.run_sync(outbox.enqueue, owed(sandbox, "a", people.ae.id))
    sandbox.inject("chat.postMessage", status=500, after_effect=True)
    await deliver_due(db, sender, NOW)
    assert len(sandbox.calls_of("chat.postMessage")) == 1


async def test_permanent_refusal_is_recorded_as_failed(
    db, sandbox: SlackSandbox, sender, people
) -> None:
    db.run_sync(outbox.enqueue, owed(sandbox, "a", people.ae.id))
    sandbox.inject("chat.postMessage", error="msg_too_long")
    report = await deliver_due(db, sender, NOW)
    assert report.failed
    assert db.run_sync(outbox.count_by_status, sandbox.workspace.team_id) == {"failed": 1}


async def test_a_channel_that_cannot_be_reached_holds_its_messages(
    db, sandbox: SlackSandbox, sender
) -> None:
    db.run_sync(outbox.enqueue, owed(sandbox, "a", "C0GONE"))
    report = await deliver_due(db, sender, NOW)
    assert report.held and not report.failed
    assert db.run_sync(outbox.count_by_status, sandbox.workspace.team_id) == {"held": 1}
    assert not (await deliver_due(db, sender, NOW)).sent  # held rows are not retried


async def test_two_ticks_at_the_same_instant_send_each_message_once(
    database_url: str, db, sandbox: SlackSandbox, people
) -> None:
    sandbox.limiter.enabled = False
    recipients = [people.ae.id, people.csm.id, people.manager.id]
    for index in range(30):
        db.run_sync(outbox.enqueue, owed(sandbox, f"k{index}", recipients[index % 3]))
    engines = [make_engine(database_url) for _ in range(3)]
    senders = [
        make_client(sandbox.workspace.bot_token, sandbox.api_url, waits=False) for _ in engines
    ]
    reports = await asyncio.gather(
        *(deliver_due(Database(e), s, NOW, limit=4) for e, s in zip(engines, senders, strict=True)),
        *(
            deliver_due(Database(e), s, NOW, limit=50)
            for e, s in zip(engines, senders, strict=True)
        ),
    )
    for other in engines:
        other.dispose()
    sent = [row for report in reports for row in report.sent]
    assert len(sent) == 30 and len(set(sent)) == 30
    texts = [m.text for user in recipients for m in sandbox.workspace.dm_channel(user).messages]
    assert sorted(texts) == sorted(f"nudge k{index}" for index in range(30))


async def test_services_sender_has_no_retries(settings: Settings) -> None:
    services = make_services(settings)
    assert services.sender.retry_handlers == []
    services.engine.dispose()
