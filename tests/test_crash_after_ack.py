"""A crash between a person's action being acknowledged and the rest of it.

A real `baton run` is killed (SIGKILL) right after Slack got its ack: from the moment the
action is sent every Web API call is stalled (the sandbox holds it unanswered, and never
carries it out), and the kill comes once the ack is back and the first call is held. Then
`baton run` starts again on the same database, ticks run (what `baton tick --now` runs,
every 6 simulated hours for 10 days), and each test checks that the domain change is there and
that every message the action owes reached Slack exactly once.

What each action owes is written down here, and each scenario also runs without the crash
(`crash=False`, the control): the same expectation must hold there, so it is what the
action owes today when nothing goes wrong.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

from bot.sandbox import SlackDriver, SlackSandbox
from bot.sandbox.state import Channel, Message, User
from storage.db import make_engine, session_scope
from storage.models import Account, Checkin, Milestone, OutboxMessage
from tests.helpers import (
    AE_ANSWERS,
    WEBHOOK_SECRET,
    BatonProcesses,
    BatonRun,
    account_channel,
    closed_won,
    crash_after_ack,
    deal,
    opened_view,
    until,
)

WAIT_S = 60.0  # generous: waiting is on conditions, this only bounds a hang
KICKOFF_REMINDERS = ("kickoff_reminder", "kickoff_escalation", "checkin_prompt")


# --- what an action owes ------------------------------------------------------------------
@dataclass(frozen=True)
class Owed:
    """A message that must be in `where` exactly once: one whose text or blocks contain
    `fragment` (and, with `thread`, a reply in the thread of the message containing it)."""

    where: Callable[[World], Channel]
    fragment: str
    thread: str | None = None


@dataclass
class World:
    sandbox: SlackSandbox
    people: Any
    processes: BatonProcesses
    database_url: str
    signing_secret: str
    baton: BatonRun | None = None
    driver: SlackDriver | None = None
    account_id: int = 0
    before: set[tuple[str, str]] = field(default_factory=set)

    def channel(self) -> Channel:
        return account_channel(self.sandbox.workspace)

    def dm(self, user: User) -> Channel:
        return self.sandbox.workspace.dm_channel(user.id)

    def new_messages(self) -> list[Message]:
        """Everything posted since the action was sent."""
        return [
            m
            for c in self.sandbox.workspace.channels.values()
            for m in c.messages
            if (c.id, m.ts) not in self.before
        ]

    def mark(self) -> None:
        self.before = {
            (c.id, m.ts) for c in self.sandbox.workspace.channels.values() for m in c.messages
        }

    async def start(self, tick_seconds: float = 3600) -> None:
        self.baton = await self.processes.run(tick_seconds)
        if self.driver is not None:
            await self.driver.close()
        self.driver = SlackDriver(self.sandbox, self.baton.url, self.signing_secret)

    def rows(self, model: type, *where: Any) -> list:
        engine = make_engine(self.database_url)
        try:
            with session_scope(engine) as session:
                return list(session.scalars(select(model).where(*where)).all())
        finally:
            engine.dispose()


def mentions(message: Message, fragment: str) -> bool:
    return fragment in message.text or fragment in json.dumps(
        message.blocks or [], ensure_ascii=False
    )


def _matches(world: World, owed: Owed) -> list[Message]:
    channel = owed.where(world)
    new = [m for m in channel.messages if (channel.id, m.ts) not in world.before]
    if owed.thread is None:
        return [m for m in new if mentions(m, owed.fragment)]
    parents = {m.ts for m in channel.messages if mentions(m, owed.thread)}
    return [m for m in new if m.thread_ts in parents and mentions(m, owed.fragment)]


def what_was_posted(world: World) -> str:
    return "\n".join(
        f"  {m.channel} {'(thread) ' if m.thread_ts else ''}{m.text[:90]!r}"
        for m in world.new_messages()
    )


# --- the harness ------------------------------------------------------------------------
@pytest.fixture
async def world(
    tmp_path: Path, sandbox: SlackSandbox, database_url: str, signing_secret: str, people
) -> AsyncIterator[World]:
    sandbox.limiter.enabled = False  # ticks weeks apart would trip it in one real second
    processes = BatonProcesses(
        tmp_path,
        {
            "SLACK_BOT_TOKEN": sandbox.workspace.bot_token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": sandbox.api_url,
            "DATABASE_URL": database_url,
            "BATON_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "BATON_MARKETING_REQUIRED": "false",
        },
    )
    world = World(sandbox, people, processes, database_url, signing_secret)
    await world.start()
    yield world
    if world.driver is not None:
        await world.driver.close()
    await processes.close()


async def act_and_settle(
    world: World,
    act: Callable[[SlackDriver], Awaitable[Any]],
    *,
    crash: bool,
    owed_now: list[Owed],
    owed_later: list[Owed] = (),  # type: ignore[assignment]
    later: timedelta = timedelta(days=10),
    stall: set[str] | None = None,
) -> None:
    """Do the action (killing `baton run` after its ack with `crash`), start `baton run`
    again on the same database, run the ticks of the next `later`, then require every
    owed message exactly once. `stall`: the methods whose first call is the crash point
    (default: any call)."""
    assert world.baton is not None and world.driver is not None
    world.mark()
    driver, sent_at = world.driver, datetime.now(UTC)
    if crash:
        reply = await crash_after_ack(world.sandbox, world.baton, lambda: act(driver), stall)
    else:
        reply = await act(driver)
    assert reply.status == 200, reply.text
    if not crash:  # the control: the action finishes its work, then Baton stops cleanly
        await until(lambda: all(_matches(world, o) for o in owed_now), within_s=WAIT_S)
        await world.baton.stop()
    await world.start()
    # A send the crash cut short is "sending" until its lease runs out (a few minutes),
    # then read back and owed again: ticks past that, then every 6 hours through `later`.
    steps = [timedelta(minutes=15), timedelta(minutes=16)]
    steps += [timedelta(hours=hours) for hours in range(6, int(later / timedelta(hours=1)), 6)]
    assert await world.processes.ticks([sent_at + step for step in steps]) > 0
    await world.baton.stop()
    problems = []
    for owed in [*owed_now, *owed_later]:
        found = _matches(world, owed)
        if len(found) != 1:
            problems.append(f"{len(found)} × {owed.fragment!r} (want exactly 1)")
    killed_at = [call.method for call in world.sandbox.stalled]
    assert not problems, (
        "\n".join(problems)
        + f"\nkilled while calling {killed_at}; posted since the action:\n"
        + what_was_posted(world)
    )


# --- setting the scene on the first `baton run` -------------------------------------------
def today() -> date:
    return datetime.now(UTC).date()


async def close_the_deal(world: World) -> Message:
    """Closed-won today, renewing in a year: the account, its channel, the packet request."""
    assert world.driver is not None
    start = today()
    reply = await closed_won(
        world.driver,
        deal(
            contract_start=start.isoformat(),
            renewal_date=start.replace(year=start.year + 1).isoformat(),
        ),
    )
    assert reply.status == 202, reply.text
    world.account_id = reply.json["account_id"]
    ws = world.sandbox.workspace  # set up by the queue, after the answer
    await until(lambda: ws.channel_by_name("acct-acme-robotics") is not None, within_s=WAIT_S)
    channel = world.channel()
    await until(lambda: any("is due" in m.text for m in channel.messages), within_s=WAIT_S)
    return next(m for m in channel.messages if "is due" in m.text)


async def open_packet(world: World, request: Message) -> Any:
    assert world.driver is not None
    ae = world.people.ae
    await world.driver.click(
        ae,
        "baton_packet_open",
        value=str(world.account_id),
        block_id=request.blocks[-1]["block_id"],
        channel=world.channel(),
        message_ts=request.ts,
    )
    return await opened(world, ae)


async def opened(world: World, user: User) -> Any:
    await until(lambda: bool(world.sandbox.workspace.views_of(user.id)), within_s=WAIT_S)
    return opened_view(world.sandbox.workspace, user.id)


async def hand_off(world: World) -> None:
    """The AE's packet, so the handoff is complete and the kickoff is next."""
    assert world.driver is not None
    view = await open_packet(world, await close_the_deal(world))
    reply = await world.driver.submit(world.people.ae, view, AE_ANSWERS)
    assert reply.status == 200 and not reply.text, reply.text
    channel = world.channel()
    await until(
        lambda: any("Next: the joint kickoff" in m.text for m in channel.messages),
        within_s=WAIT_S,
    )


MISMATCH = {
    "summary": "Rollout on track; 4 of 6 CSMs active.",
    "sentiment": "concerned",
    "next_steps": "Train the last two CSMs.",
    "mismatch": ["yes"],
    "promised": "A Salesforce sync in real time, not hourly.",
}


async def log_mismatch(world: World) -> None:
    """Check-in #1, with an expectation mismatch, before the crash tests' action."""
    assert world.driver is not None
    await world.driver.command(world.people.csm, "checkin acme")
    view = await opened(world, world.people.csm)
    reply = await world.driver.submit(world.people.csm, view, MISMATCH)
    assert reply.status == 200 and not reply.text, reply.text
    ae_dm = world.dm(world.people.ae)
    await until(lambda: any("Please clarify" in m.text for m in ae_dm.messages), within_s=WAIT_S)


def ae(world: World) -> Channel:
    return world.dm(world.people.ae)


def manager(world: World) -> Channel:
    return world.dm(world.people.manager)


def channel(world: World) -> Channel:
    return world.channel()


CRASH = pytest.mark.parametrize("crash", [False, True], ids=["control", "crash-after-ack"])


# --- the sandbox's stall, on its own --------------------------------------------------------
async def test_a_stalled_call_is_neither_carried_out_nor_answered_until_released(
    sandbox: SlackSandbox, people
) -> None:
    token = {"Authorization": f"Bearer {sandbox.workspace.bot_token}"}
    body = {"channel": people.ae.id, "text": "held"}
    dm = sandbox.workspace.dm_channel(people.ae.id)
    async with aiohttp.ClientSession(trust_env=False) as session:

        async def post() -> dict:
            async with session.post(
                sandbox.api_url + "chat.postMessage", json=body, headers=token
            ) as resp:
                return await resp.json()

        sandbox.stall({"chat.postMessage"})
        held = asyncio.ensure_future(post())
        await until(lambda: bool(sandbox.stalled))
        async with session.post(sandbox.api_url + "auth.test", headers=token) as resp:
            assert (await resp.json())["ok"]  # other methods go through
        assert not held.done() and dm.messages == [] and not sandbox.calls_of("chat.postMessage")
        sandbox.release()
        assert (await held)["ok"]
        assert [m.text for m in dm.messages] == ["held"]

        sandbox.stall()
        dropped = asyncio.ensure_future(post())
        await until(lambda: len(sandbox.stalled) == 2)
        sandbox.drop_stalled()
        with pytest.raises(aiohttp.ClientError):
            await dropped
        assert [m.text for m in dm.messages] == ["held"]  # the dropped call never happened
        assert (await post())["ok"]  # and no longer stalled


# --- one test per action ------------------------------------------------------------------
@CRASH
@pytest.mark.parametrize(
    "stall", [None, {"chat.getPermalink"}], ids=["at-the-first-call", "at-the-permalink"]
)
async def test_checkin_with_a_mismatch(world: World, crash: bool, stall: set | None) -> None:
    """Check-in #1 with a mismatch: posted in the channel, the AE copied and asked to
    clarify; unanswered, the manager is told after two business days. The crash comes at
    the first call after the ack (the channel post), or at the permalink lookup after it."""
    await hand_off(world)
    csm = world.people.csm
    assert world.driver is not None
    await world.driver.command(csm, "checkin acme")
    view = await opened(world, csm)
    await act_and_settle(
        world,
        lambda driver: driver.submit(csm, view, MISMATCH),
        crash=crash,
        owed_now=[
            Owed(channel, "Check-in #1 for Acme Robotics"),
            Owed(ae, "check-in #1 of 4 you are copied on"),
            Owed(ae, "Please clarify an expectation mismatch"),
        ],
        owed_later=[Owed(manager, "expectation mismatch")],
        stall=stall,
    )
    (checkin,) = world.rows(Checkin, Checkin.account_id == world.account_id)
    assert checkin.number == 1 and checkin.mismatch and checkin.clarified_at is None


@CRASH
async def test_clarify(world: World, crash: bool) -> None:
    """The AE clarifies the mismatch: the answer in the check-in's thread, and the
    manager's escalation cancelled (never sent)."""
    await hand_off(world)
    await log_mismatch(world)
    ae_dm = world.dm(world.people.ae)
    ask = next(m for m in ae_dm.messages if "Please clarify" in m.text)
    block = ask.blocks[-1]
    assert world.driver is not None
    await world.driver.click(
        world.people.ae,
        "baton_clarify_open",
        value=block["elements"][0]["value"],
        block_id=block["block_id"],
        channel=ae_dm,
        message_ts=ask.ts,
    )
    view = await opened(world, world.people.ae)
    answer = "Hourly was agreed; real time is on the Q3 roadmap."
    await act_and_settle(
        world,
        lambda driver: driver.submit(world.people.ae, view, {"clarification": answer}),
        crash=crash,
        owed_now=[Owed(channel, answer, thread="Check-in #1 for Acme Robotics")],
    )
    assert [m.text for m in manager(world).messages if "expectation mismatch" in m.text] == []
    (checkin,) = world.rows(Checkin, Checkin.account_id == world.account_id)
    assert checkin.clarified_at is not None and checkin.clarification == answer


@CRASH
async def test_kickoff_held(world: World, crash: bool) -> None:
    """The kickoff logged: said in the channel; its reminders (and the check-in prompts
    planned from the close) cancelled."""
    await hand_off(world)
    prompt = next(m for m in world.channel().messages if "Next: the joint kickoff" in m.text)
    block = prompt.blocks[-1]
    await act_and_settle(
        world,
        lambda driver: driver.click(
            world.people.csm,
            "baton_kickoff_held",
            value=block["elements"][0]["value"],
            block_id=block["block_id"],
            channel=world.channel(),
            message_ts=prompt.ts,
        ),
        crash=crash,
        owed_now=[Owed(channel, "Kickoff held for *Acme Robotics*")],
    )
    assert [m.text for m in world.new_messages() if "kickoff" in m.text.lower()] == [
        next(m.text for m in world.new_messages() if "Kickoff held" in m.text)
    ]
    (account,) = world.rows(Account, Account.id == world.account_id)
    assert account.kickoff_held_at is not None
    pending = world.rows(
        OutboxMessage,
        OutboxMessage.account_id == world.account_id,
        OutboxMessage.kind.in_(KICKOFF_REMINDERS[:2]),
        OutboxMessage.status.in_(("pending", "sent")),
    )
    assert pending == []


@CRASH
async def test_packet_completion(world: World, crash: bool) -> None:
    """The AE's packet completes the handoff (no marketing part needed): the summary, the
    CSM asked to acknowledge, the kickoff prompt."""
    view = await open_packet(world, await close_the_deal(world))
    await act_and_settle(
        world,
        lambda driver: driver.submit(world.people.ae, view, AE_ANSWERS),
        crash=crash,
        owed_now=[
            Owed(channel, "Handoff packet"),
            Owed(channel, "Next: the joint kickoff"),
        ],
    )
    (account,) = world.rows(Account, Account.id == world.account_id)
    assert account.status != "handoff_pending"


async def open_outcome(world: World, user: User, action: str) -> Any:
    assert world.driver is not None
    await world.driver.click(user, action, value=str(world.account_id), home=True)
    return await opened(world, user)


@CRASH
async def test_renewed(world: World, crash: bool) -> None:
    """Renewed: the hand-back posted, the next cycle planned from the new date."""
    await hand_off(world)
    view = await open_outcome(world, world.people.ae, "baton_renewed")
    (account,) = world.rows(Account, Account.id == world.account_id)
    new_date = account.renewal_date.replace(year=account.renewal_date.year + 1)
    await act_and_settle(
        world,
        lambda driver: driver.submit(
            world.people.ae, view, {"new_date": new_date.isoformat(), "new_arr": "96000"}
        ),
        crash=crash,
        owed_now=[Owed(channel, "Acme Robotics renewed: hand-back to the CSM")],
    )
    (account,) = world.rows(Account, Account.id == world.account_id)
    assert account.renewal_date == new_date
    assert world.rows(
        Milestone, Milestone.account_id == world.account_id, Milestone.renewal_date == new_date
    )


@CRASH
async def test_churned(world: World, crash: bool) -> None:
    """Churned: said in the channel with its root cause, and nothing more owed."""
    await hand_off(world)
    view = await open_outcome(world, world.people.csm, "baton_churned")
    await act_and_settle(
        world,
        lambda driver: driver.submit(
            world.people.csm, view, {"reason": "product_fit", "note": "Needed on-prem"}
        ),
        crash=crash,
        owed_now=[Owed(channel, "root cause: Product fit")],
    )
    (account,) = world.rows(Account, Account.id == world.account_id)
    assert account.status == "churned"
    pending = world.rows(
        OutboxMessage,
        OutboxMessage.account_id == world.account_id,
        OutboxMessage.status == "pending",
    )
    assert pending == []
    assert [m.text for m in world.new_messages() if "root cause" not in m.text] == []
