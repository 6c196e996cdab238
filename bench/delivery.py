"""Delivery against the rate Slack allows: how close does Baton get, and is anything lost,
doubled or out of order?

The sandbox enforces Slack's limits in real time (one post a second per channel with a
burst of six, and a workspace-wide posting limit), and Baton keeps to its own budget. Each
scenario owes its messages at once, then runs `baton tick`'s drain until all are sent.
"Allowed" is the shortest time Slack's limits permit for that mix (the busiest channel at
its pace after its burst, the workspace limit likewise); the ratio is allowed / taken.

Run: `.venv/bin/python bench/delivery.py` (SQLite in a temporary file, or the database in
BATON_TEST_DATABASE_URL). Scenarios: 400 DMs to 400 people with one busy channel of 60
messages (the issue's mix, plus a channel that must not hold the others up); 1,000 DMs
over the default 600-a-minute workspace limit; 2,000 DMs with the workspace limit
raised out of the way, which measures Baton's own throughput.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.outbox.owe import enqueue_all
from bot.outbox.tick import run_tick
from bot.platform.scopes import granted_scopes
from bot.platform.settings import load_settings
from bot.runtime.runner import identify, make_services
from bot.sandbox import SandboxWorkspace, SlackSandbox
from bot.sandbox.rules import POST_MESSAGE_BURST, POST_MESSAGE_PER_SECOND
from storage import outbox
from storage.migrate import upgrade


@dataclass(frozen=True)
class Scenario:
    name: str
    dms: int
    busy: int
    posts_per_minute: int


SCENARIOS = [
    Scenario("400 DMs + a busy channel of 60", 400, 60, 600),
    Scenario("1,000 DMs, 600/min workspace limit", 1000, 0, 600),
    Scenario("2,000 DMs, workspace limit out of the way", 2000, 0, 100_000),
]


def allowed_seconds(scenario: Scenario) -> float:
    channel = max(0, scenario.busy - POST_MESSAGE_BURST) / POST_MESSAGE_PER_SECOND
    total = scenario.dms + scenario.busy
    per_minute = scenario.posts_per_minute
    workspace = max(0, total - per_minute) / (per_minute / 60)
    return max(channel, workspace)


@dataclass
class Outcome:
    seconds: float
    dms_done_s: float
    sent: int
    lost: int
    doubled: int
    out_of_order: int
    slack_429: int


async def run(scenario: Scenario, url: str) -> Outcome:
    sandbox = SlackSandbox(SandboxWorkspace(bot_scopes=granted_scopes()))
    sandbox.limiter.posts_per_minute = scenario.posts_per_minute
    await sandbox.start()
    ws = sandbox.workspace
    settings = load_settings(
        env_file=None,
        slack_bot_token=ws.bot_token,
        slack_signing_secret=secrets.token_hex(8),
        slack_api_url=sandbox.api_url,
        database_url=url,
        baton_slack_posts_per_minute=scenario.posts_per_minute,
    )
    services = make_services(settings)
    try:
        upgrade(services.engine)
        await identify(services)
        people = [ws.add_user(f"p{n}", f"P {n}", f"p{n}@x.test").id for n in range(scenario.dms)]
        busy = ws.add_channel("busy", [ws.bot.id]).id
        now = datetime.now(UTC)
        owed = [(f"dm-{n}", person) for n, person in enumerate(people)]
        owed += [(f"busy-{n}", busy) for n in range(scenario.busy)]
        services.db.run_sync(
            enqueue_all,
            [
                outbox.OwedMessage(
                    team_id=ws.team_id, dedupe_key=key, channel=channel, text=key, due_at=now
                )
                for key, channel in owed
            ],
        )
        began = time.monotonic()
        dms_done = None
        while True:
            await run_tick(services, seconds=30)
            statuses = services.db.run_sync(outbox.count_by_status, ws.team_id)
            if dms_done is None and _dms_sent(ws, people) == len(people):
                dms_done = time.monotonic() - began
            if statuses.get("pending", 0) + statuses.get("sending", 0) == 0:
                break
        seconds = time.monotonic() - began
    finally:
        await sandbox.stop()
        services.engine.dispose()
    texts = Counter(m.text for channel in ws.channels.values() for m in channel.messages)
    busy_texts = [m.text for m in ws.channels[busy].messages]
    expected = [f"busy-{n}" for n in range(scenario.busy)]
    return Outcome(
        seconds=seconds,
        dms_done_s=dms_done or seconds,
        sent=sum(texts.values()),
        lost=sum(1 for key, _ in owed if texts[key] == 0),
        doubled=sum(1 for count in texts.values() if count > 1),
        out_of_order=sum(1 for a, b in zip(busy_texts, expected, strict=False) if a != b),
        slack_429=sum(1 for call in sandbox.calls_of("chat.postMessage") if call.status == 429),
    )


def _dms_sent(ws: SandboxWorkspace, people: list[str]) -> int:
    return sum(1 for person in people if ws.dm_channel(person).messages)


async def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for index, scenario in enumerate(SCENARIOS):
            url = os.environ.get("BATON_TEST_DATABASE_URL") or f"sqlite:///{Path(tmp)}/d{index}.db"
            if "BATON_TEST_DATABASE_URL" in os.environ:
                _reset(url)
            outcome = await run(scenario, url)
            allowed = allowed_seconds(scenario)
            total = scenario.dms + scenario.busy
            rate = total / outcome.seconds
            ratio = (max(allowed, 1e-9) / outcome.seconds) if allowed else float("nan")
            print(f"== {scenario.name}")
            print(f"  sent {outcome.sent}/{total} in {outcome.seconds:.1f} s ({rate:.1f} msg/s)")
            if allowed:
                print(f"  Slack allows it in {allowed:.1f} s: ratio {ratio:.2f}")
            else:
                print("  Slack allows it all at once (within the bursts): rate is Baton's own")
            if scenario.busy:
                print(f"  every DM sent after {outcome.dms_done_s:.1f} s (the busy channel "
                      f"takes {allowed:.0f} s)")  # fmt: skip
            print(f"  lost {outcome.lost}, doubled {outcome.doubled}, "
                  f"out of order {outcome.out_of_order}, Slack 429s {outcome.slack_429}")  # fmt: skip


def _reset(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        SCENARIOS[:] = [s for s in SCENARIOS if any(a in s.name for a in sys.argv[1:])]
    asyncio.run(main())
