"""The rate budget: never over what Slack allows, shared by every process, and delivery
paced by it (drained at once where the budget allows, each channel in order)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.outbox.deliver import deliver_due
from bot.platform.budget import Budget, SharedBudget
from bot.platform.clock import SimulatedClock
from bot.platform.slack_client import OverBudget, make_client
from bot.sandbox.rules import METHOD_TIER
from bot.sandbox.server import RateLimiter
from storage import outbox
from storage.db import Database

START = datetime(2027, 1, 4, 9, tzinfo=UTC)
METHODS = sorted({*METHOD_TIER, "chat.postMessage"})
CHANNELS = ["C1", "C2", "D1"]


def frozen_budget(clock: SimulatedClock, posts_per_minute: int = 600) -> Budget:
    return Budget(clock, posts_per_minute, monotonic=lambda: 0.0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=5, allow_nan=False),  # seconds since the last
            st.sampled_from(METHODS),
            st.sampled_from(CHANNELS),
        ),
        max_size=400,
    ),
    st.sampled_from([60, 600, 100_000]),
)
async def test_whatever_the_budget_lets_through_the_sandbox_accepts(calls, per_minute) -> None:
    """The sandbox enforces Slack's limits (stricter where Slack is vague): nothing the
    budget allows, in any pattern of calls, is ever over them."""
    clock = SimulatedClock(START)
    budget = frozen_budget(clock, per_minute)
    slack = RateLimiter(lambda: clock().timestamp())
    slack.posts_per_minute = per_minute
    allowed = 0
    for gap, method, channel in calls:
        clock.advance(timedelta(seconds=gap))
        if await budget.take(method, channel) == 0:
            allowed += 1
            assert slack.retry_after(method, channel) is None, (method, channel, clock())
    assert allowed or not calls


async def test_a_busy_channel_keeps_its_pace_and_others_go_on() -> None:
    clock = SimulatedClock(START)
    budget = frozen_budget(clock)
    burst = [await budget.take("chat.postMessage", "C1") for _ in range(6)]
    assert burst[:5] == [0.0] * 5 and burst[5] > 0  # a short burst, then its pace
    assert await budget.take("chat.postMessage", "C2") == 0.0  # another channel is free
    clock.advance(timedelta(seconds=burst[5]))
    assert await budget.take("chat.postMessage", "C1") == 0.0


async def test_slacks_retry_after_holds_that_limit_only() -> None:
    clock = SimulatedClock(START)
    budget = frozen_budget(clock)
    await budget.hold_off("chat.postMessage", "C1", 30)
    assert 29 < await budget.take("chat.postMessage", "C1") <= 30 + 5
    assert await budget.take("chat.postMessage", "C2") == 0.0
    await budget.hold_off("users.info", None, 10)
    assert await budget.take("users.info") > 9
    assert await budget.take("conversations.info") == 0.0


async def test_processes_on_one_database_share_one_budget(engine) -> None:
    clock = SimulatedClock(START)
    first, second = (SharedBudget(Database(engine), clock, monotonic=lambda: 0.0) for _ in range(2))
    first.team_id = second.team_id = "T1"
    answers = [
        await budget.take("conversations.create") for _ in range(20) for budget in (first, second)
    ]
    assert answers.count(0.0) == 20  # Tier 2: 20 a minute, for both together
    other = SharedBudget(Database(engine), clock, monotonic=lambda: 0.0)
    other.team_id = "T2"  # another workspace has its own
    assert await other.take("conversations.create") == 0.0
    clock.advance(timedelta(minutes=1))
    assert await first.take("conversations.create") == 0.0


async def test_a_client_over_budget_does_not_call_slack(sandbox) -> None:
    clock = SimulatedClock(START)
    sandbox.workspace.use_clock(clock)
    budget = frozen_budget(clock)
    sender = make_client(sandbox.workspace.bot_token, sandbox.api_url, budget=budget, waits=False)
    user = sandbox.workspace.add_user("ana", "Ana", "ana@example.test").id
    for _ in range(5):
        await sender.chat_postMessage(channel=user, text="hi")
    try:
        await sender.chat_postMessage(channel=user, text="one too many")
    except OverBudget as exc:
        assert exc.response.status_code == 429 and 0 < exc.wait <= 1.1
    else:
        raise AssertionError("the sixth post in one instant went out")
    assert len(sandbox.calls_of("chat.postMessage")) == 5


async def test_one_tick_drains_everything_due_in_each_channels_order(sandbox, db) -> None:
    """Past 50 at once, every DM at once, and a busy channel at its own pace in order."""
    clock = SimulatedClock(START)
    sandbox.workspace.use_clock(clock)  # the sandbox's limits on too, in the same time
    budget = frozen_budget(clock)
    sender = make_client(sandbox.workspace.bot_token, sandbox.api_url, budget=budget, waits=False)
    ws = sandbox.workspace
    people = [ws.add_user(f"p{n}", f"P {n}", f"p{n}@example.test").id for n in range(120)]
    busy = ws.add_channel("busy", [ws.bot.id]).id
    for n, person in enumerate(people):
        owe(db, ws.team_id, f"dm-{n}", person, f"dm {n}")
    for n in range(12):
        owe(db, ws.team_id, f"busy-{n}", busy, f"busy {n}")
    report = await deliver_due(db, sender, clock(), clock=clock)
    assert len(report.sent) == 120 + 5
    assert [m.text for m in ws.channels[busy].messages] == [f"busy {n}" for n in range(5)]
    seconds = 0
    while len(ws.channels[busy].messages) < 12:
        clock.advance(timedelta(seconds=1))
        seconds += 1
        await deliver_due(db, sender, clock(), clock=clock)
        assert seconds < 20
    assert [m.text for m in ws.channels[busy].messages] == [f"busy {n}" for n in range(12)]
    assert 7 <= seconds <= 9  # seven more at a little under one a second
    assert all(c.status == 200 for c in sandbox.calls_of("chat.postMessage"))  # no 429
    counts = Counter(m.text for ch in ws.channels.values() for m in ch.messages)
    assert set(counts.values()) == {1} and len(counts) == 132


def owe(db: Database, team: str, key: str, channel: str, text: str) -> int:
    return db.run_sync(
        outbox.enqueue,
        outbox.OwedMessage(team_id=team, dedupe_key=key, channel=channel, text=text, due_at=START),
    )
