"""A Slack 5xx storm against the outbox: is every owed message in Slack exactly once?

Baton owes messages across DMs, channels (one of them busy enough that its history takes
several pages) and threads. The sandbox then fails calls at random from a fixed seed:
503s, 429s with Retry-After, 500s and 503s *after* posting, responses held past the
client timeout, and 503s, 429s and held responses on the reads reconciliation depends on
(conversations.history, .replies, .open), which for five minutes in the middle hardly
answer at all while people keep talking. A simulated clock lets retries and leases pass
without waiting. Then the storm stops and ticks run until nothing is pending, sending or
unknown, and every outbox id is counted in Slack's messages (it is in their metadata).

Run: `.venv/bin/python bench/storm.py [messages] [seed]` (SQLite in a temporary file, or
the database in BATON_TEST_DATABASE_URL). tests/test_storm.py runs it with 1,000 messages.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.outbox.tick import run_tick
from bot.platform.clock import SimulatedClock
from bot.platform.scopes import granted_scopes
from bot.platform.services import Services
from bot.platform.settings import load_settings
from bot.platform.slack_client import make_client
from bot.runtime.runner import make_services
from bot.sandbox import SandboxWorkspace, SlackSandbox
from bot.sandbox.server import Fault
from storage import outbox
from storage.db import session_scope
from storage.migrate import upgrade
from storage.models import OutboxMessage, OutboxStatus

START = datetime(2027, 1, 4, 15, tzinfo=UTC)
TICK = timedelta(seconds=15)
READS = ("conversations.history", "conversations.replies", "conversations.open")
UNSETTLED = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)


@dataclass(frozen=True)
class Mix:
    """How often calls fail during the storm, and how long a held response is held."""

    post: float = 0.3  # share of chat.postMessage calls that fail
    read: float = 0.25  # share of history / replies / open calls that fail
    outage: tuple[float, float] = (0.25, 0.6)  # part of the storm when reads hardly answer
    outage_read: float = 0.9
    held: float = 0.04  # share of those failures that are responses held past the timeout
    held_s: float = 0.4  # longer than the test's client timeout


class Storm:
    """The sandbox's chaos source: a random fault (or none) for each call."""

    def __init__(self, rng: random.Random, mix: Mix) -> None:
        self.rng = rng
        self.mix = mix
        self.faults: Counter[str] = Counter()
        self.outage = False

    def __call__(self, method: str) -> Fault | None:
        rng, mix = self.rng, self.mix
        if method == "chat.postMessage" and rng.random() < mix.post:
            fault = self._held(method, after_effect=rng.random() < 0.5) or rng.choice(
                [
                    Fault(method, 0, status=503),
                    Fault(method, 0, status=429, retry_after=rng.randint(1, 30)),
                    Fault(method, 0, status=500, after_effect=True),
                    Fault(method, 0, status=503, after_effect=True),
                ]
            )
        elif method in READS and rng.random() < (mix.outage_read if self.outage else mix.read):
            fault = self._held(method, after_effect=False) or rng.choice(
                [
                    Fault(method, 0, status=503),
                    Fault(method, 0, status=500),
                    Fault(method, 0, status=429, retry_after=rng.randint(1, 30)),
                    Fault(method, 0, error="fatal_error"),
                ]
            )
        else:
            return None
        self.faults[_kind(fault)] += 1
        return fault

    def _held(self, method: str, *, after_effect: bool) -> Fault | None:
        if self.rng.random() >= self.mix.held:
            return None
        return Fault(method, 0, status=504, delay_s=self.mix.held_s, after_effect=after_effect)


def _kind(fault: Fault) -> str:
    what = fault.error or str(fault.status)
    if fault.delay_s:
        what = "held"
    return f"{fault.method} {what}{' after posting' if fault.after_effect else ''}"


@dataclass
class Targets:
    dms: list[str]  # user ids: a DM is owed to the person, and read back via conversations.open
    channels: list[str]
    busy: str  # a channel so busy that one history window takes several pages
    threads: list[tuple[str, str]]  # (channel, parent ts)


def furnish(workspace: SandboxWorkspace, rng: random.Random, people: int = 30) -> Targets:
    users = [
        workspace.add_user(f"p{n}", f"Person {n}", f"p{n}@example.test").id for n in range(people)
    ]
    bot = workspace.bot.id
    channels = [
        workspace.add_channel(f"storm-{n}", [bot, *rng.sample(users, 3)], is_private=n % 2 == 1).id
        for n in range(12)
    ]
    threads = [
        (channel, workspace.api_chat_postMessage({"channel": channel, "text": "parent"})["ts"])
        for channel in rng.sample(channels[1:], 6)
    ]
    return Targets(dms=users, channels=channels[1:], busy=channels[0], threads=threads)


def owe(services: Services, team_id: str, targets: Targets, rng: random.Random, count: int) -> int:
    for n in range(count):
        roll = rng.random()
        thread_ts = None
        if roll < 0.35:
            channel = rng.choice(targets.dms)
        elif roll < 0.65:
            channel = targets.busy
        elif roll < 0.85:
            channel = rng.choice(targets.channels)
        else:
            channel, thread_ts = rng.choice(targets.threads)
        services.db.run_sync(
            outbox.enqueue,
            outbox.OwedMessage(
                team_id=team_id,
                dedupe_key=f"storm-{n}",
                channel=channel,
                text=f"storm message {n}",
                thread_ts=thread_ts,
                due_at=START + timedelta(seconds=rng.uniform(0, 300)),
            ),
        )
    return count


def chatter(workspace: SandboxWorkspace, targets: Targets, rng: random.Random) -> None:
    """People keep talking meanwhile (messages without Baton's metadata)."""
    for _ in range(rng.randint(0, 50)):
        workspace.api_chat_postMessage({"channel": targets.busy, "text": "chatter"})
    channel, parent = rng.choice(targets.threads)
    for _ in range(rng.randint(0, 40)):
        workspace.api_chat_postMessage({"channel": channel, "text": "reply", "thread_ts": parent})


@dataclass
class Result:
    owed: int = 0
    sent_once: int = 0
    duplicated: int = 0  # outbox ids in Slack more than once
    lost: int = 0  # outbox ids not in Slack at all
    rows_wrong: int = 0  # rows not `sent`, or not with the ts Slack has
    ticks: int = 0
    failed_ticks: int = 0  # ticks that raised (the scheduler logs them and carries on)
    history_calls: int = 0  # conversations.history + conversations.replies
    open_calls: int = 0
    faults: Counter[str] = field(default_factory=Counter)


async def run_storm(
    services: Services,
    sandbox: SlackSandbox,
    clock: SimulatedClock,
    *,
    messages: int = 1000,
    seed: int = 20270104,
    storm_ticks: int | None = None,  # by default as long as sending them all takes, and more
    calm_ticks: int = 1000,
    mix: Mix = Mix(),
) -> Result:
    rng = random.Random(seed)
    workspace = sandbox.workspace
    targets = furnish(workspace, rng)
    result = Result(owed=owe(services, workspace.team_id, targets, rng, messages))
    storm = Storm(random.Random(seed + 1), mix)
    sandbox.chaos = storm
    storm_ticks = storm_ticks or max(60, messages * 6 // 100)
    for tick in range(storm_ticks):
        storm.outage = mix.outage[0] <= tick / storm_ticks < mix.outage[1]
        await _tick(services, clock, result)
        chatter(workspace, targets, rng)
    sandbox.chaos = None
    sandbox.faults.clear()
    while _unsettled(services) and result.ticks < storm_ticks + calm_ticks:
        await _tick(services, clock, result)
    result.faults = storm.faults
    _count(services, sandbox, result)
    return result


async def _tick(services: Services, clock: SimulatedClock, result: Result) -> None:
    clock.advance(TICK)
    result.ticks += 1
    try:
        await run_tick(services)
    except Exception:  # the scheduler logs a failed tick and runs the next one
        result.failed_ticks += 1


def _unsettled(services: Services) -> bool:
    with session_scope(services.engine) as session:
        return (
            session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.status.in_(UNSETTLED)).limit(1)
            )
            is not None
        )


def _count(services: Services, sandbox: SlackSandbox, result: Result) -> None:
    copies: Counter[int] = Counter()
    where: dict[int, tuple[str, str]] = {}
    for channel in sandbox.workspace.channels.values():
        for message in channel.messages:
            payload = (message.metadata or {}).get("event_payload") or {}
            if isinstance(payload.get("outbox_id"), int):
                copies[payload["outbox_id"]] += 1
                where[payload["outbox_id"]] = (channel.id, message.ts)
    with session_scope(services.engine) as session:
        rows = session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.status,
                OutboxMessage.sent_channel,
                OutboxMessage.sent_ts,
            )
        ).all()
    for row in rows:
        seen = copies[row.id]
        result.sent_once += seen == 1
        result.duplicated += seen > 1
        result.lost += seen == 0
        right = seen == 1 and where[row.id] == (row.sent_channel, row.sent_ts)
        result.rows_wrong += not (row.status == OutboxStatus.SENT and right)
    result.history_calls = len(sandbox.calls_of("conversations.history")) + len(
        sandbox.calls_of("conversations.replies")
    )
    result.open_calls = len(sandbox.calls_of("conversations.open"))


def storm_services(services: Services, sandbox: SlackSandbox, timeout_s: float) -> Services:
    """The services with clients that give up sooner (held responses stay short) and never
    sleep out a Retry-After themselves: on the simulated clock that sleep would be real."""
    client = make_client(
        sandbox.workspace.bot_token, sandbox.api_url, timeout=timeout_s, waits=False
    )
    return replace(services, client=client, sender=client)


async def main(messages: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BATON_TEST_DATABASE_URL") or f"sqlite:///{Path(tmp) / 'storm.db'}"
        sandbox = SlackSandbox(SandboxWorkspace(bot_scopes=granted_scopes()))
        await sandbox.start()
        clock = SimulatedClock(START)
        sandbox.workspace.use_clock(clock)
        settings = load_settings(
            env_file=None,
            slack_bot_token=sandbox.workspace.bot_token,
            slack_signing_secret=secrets.token_hex(8),
            slack_api_url=sandbox.api_url,
            database_url=url,
        )
        services = storm_services(make_services(settings, clock), sandbox, timeout_s=0.25)
        upgrade(services.engine)
        began = time.monotonic()
        try:
            result = await run_storm(services, sandbox, clock, messages=messages, seed=seed)
        finally:
            await sandbox.stop()
            services.engine.dispose()
    print(f"messages owed     {result.owed}")
    print(f"sent once         {result.sent_once}")
    print(f"duplicated        {result.duplicated}")
    print(f"lost              {result.lost}")
    print(f"rows not settled  {result.rows_wrong}")
    print(f"ticks taken       {result.ticks} ({result.failed_ticks} raised)")
    print(f"history calls     {result.history_calls} (+ {result.open_calls} conversations.open)")
    print(f"faults injected   {sum(result.faults.values())}")
    for kind, count in sorted(result.faults.items()):
        print(f"  {count:6}  {kind}")
    print(f"wall time         {time.monotonic() - began:.1f} s")


if __name__ == "__main__":
    args = [int(arg) for arg in sys.argv[1:3]]
    asyncio.run(main(*(args + [5000, 20270104][len(args) :])))
