"""Three workers against one, on PostgreSQL: how much faster do three processes deliver
what is owed, and is anything lost, doubled or out of its channel's order?

The messages are owed at once (DMs to many people, a few to each, so that the order within
a channel is tested and Slack's per-channel pace, a burst of six, stays out of the way; the
workspace posting limit is raised out of the way too, as in bench/delivery.py's third
scenario): what is measured is Baton's own throughput. Then `baton tick`, which drains
what is due and exits, runs as one process, and in another round on a fresh schema as
three processes at once. They share the outbox (claims under FOR UPDATE SKIP LOCKED, a
channel's messages to one worker at a time) and the rate budget (the rate_buckets table).
The sandbox, in this process, records every post; throughput is messages over the time from
the first post to the last (process start-up is shown apart).

Run: `BATON_TEST_DATABASE_URL=postgresql+psycopg://… .venv/bin/python bench/workers.py
[messages]` (default 3,000). It drops and recreates that database's public schema.
"""

from __future__ import annotations

import asyncio
import os
import resource
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.outbox.owe import enqueue_all
from bot.platform.scopes import granted_scopes
from bot.platform.settings import load_settings
from bot.runtime.runner import identify, make_services
from bot.sandbox import SandboxWorkspace, SlackSandbox
from storage import outbox
from storage.migrate import upgrade

PER_PERSON = 5  # within a channel's burst of six
POSTS_PER_MINUTE = 100_000  # the most BATON_SLACK_POSTS_PER_MINUTE takes
BATON = Path(sys.executable).with_name("baton")
LOOK_S = 0.01  # how often the sandbox's posts are counted


@dataclass
class Round:
    workers: int
    first_post_s: float  # from the processes' start to the first post
    seconds: float  # from the first post to the last
    sent: int
    lost: int
    doubled: int
    out_of_order: int
    slack_429: int
    exit_codes: list[int]
    worker_cpu_s: float  # the workers' processes together, start-up included
    sandbox_cpu_s: float  # this process: the sandbox (Slack) answering them


async def run_round(url: str, messages: int, workers: int) -> Round:
    _reset(url)
    sandbox = SlackSandbox(SandboxWorkspace(bot_scopes=granted_scopes()))
    sandbox.limiter.posts_per_minute = POSTS_PER_MINUTE
    await sandbox.start()
    ws = sandbox.workspace
    settings = load_settings(
        env_file=None,
        slack_bot_token=ws.bot_token,
        slack_signing_secret=secrets.token_hex(8),
        slack_api_url=sandbox.api_url,
        database_url=url,
        baton_slack_posts_per_minute=POSTS_PER_MINUTE,
    )
    services = make_services(settings)
    try:
        upgrade(services.engine)
        await identify(services)
        people = [
            ws.add_user(f"p{n}", f"P {n}", f"p{n}@x.test").id for n in range(messages // PER_PERSON)
        ]
        owed = [(f"{person}-{k}", person) for k in range(PER_PERSON) for person in people]
        now = datetime.now(UTC)
        services.db.run_sync(
            enqueue_all,
            [
                outbox.OwedMessage(
                    team_id=ws.team_id, dedupe_key=key, channel=channel, text=key, due_at=now
                )
                for key, channel in owed
            ],
        )
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "SLACK_BOT_TOKEN": ws.bot_token,
            "SLACK_API_URL": sandbox.api_url,
            "BATON_SLACK_POSTS_PER_MINUTE": str(POSTS_PER_MINUTE),
        }
        began, cpu = time.monotonic(), _cpu()
        processes = [
            await asyncio.create_subprocess_exec(
                str(BATON),
                "tick",
                "--seconds",
                "600",
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )  # fmt: skip
            for _ in range(workers)
        ]
        first = last = None
        done = asyncio.gather(*(p.wait() for p in processes))
        while not done.done():
            posted = _posted(ws)
            if posted and first is None:
                first = time.monotonic()
            if posted >= len(owed) and last is None:
                last = time.monotonic()
            await asyncio.sleep(LOOK_S)
        codes = list(await done)
        workers_cpu, own_cpu = (after - before for after, before in zip(_cpu(), cpu, strict=True))
        last = last or time.monotonic()
        first = first or last
    finally:
        await sandbox.stop()
        services.engine.dispose()
    texts = Counter(m.text for channel in ws.channels.values() for m in channel.messages)
    expected = {person: [f"{person}-{k}" for k in range(PER_PERSON)] for person in people}
    out_of_order = sum(
        1
        for person in people
        if [m.text for m in ws.dm_channel(person).messages] != expected[person]
    )
    return Round(
        workers=workers,
        first_post_s=first - began,
        seconds=last - first,
        sent=sum(texts.values()),
        lost=sum(1 for key, _ in owed if texts[key] == 0),
        doubled=sum(1 for count in texts.values() if count > 1),
        out_of_order=out_of_order,
        slack_429=sum(1 for call in sandbox.calls_of("chat.postMessage") if call.status == 429),
        exit_codes=codes,
        worker_cpu_s=workers_cpu,
        sandbox_cpu_s=own_cpu,
    )


def _cpu() -> tuple[float, float]:
    """CPU seconds so far: of the finished child processes, and of this one."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime, time.process_time()


def _posted(ws: SandboxWorkspace) -> int:
    return sum(len(channel.messages) for channel in list(ws.channels.values()))


def _reset(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _show(round_: Round, messages: int) -> None:
    rate = round_.sent / round_.seconds if round_.seconds else float("inf")
    print(f"== {round_.workers} worker{'s' if round_.workers > 1 else ''} (baton tick)")
    print(f"  sent {round_.sent}/{messages} in {round_.seconds:.1f} s ({rate:.0f} msg/s); "
          f"first post {round_.first_post_s:.1f} s after the processes started")  # fmt: skip
    print(
        f"  lost {round_.lost}, doubled {round_.doubled}, channels out of order "
        f"{round_.out_of_order}, Slack 429s {round_.slack_429}, exit codes {round_.exit_codes}"
    )
    print(f"  CPU: the workers {round_.worker_cpu_s:.1f} s, the sandbox {round_.sandbox_cpu_s:.1f} s")  # fmt: skip


async def main(messages: int) -> None:
    url = os.environ.get("BATON_TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        raise SystemExit(
            "bench/workers.py needs BATON_TEST_DATABASE_URL set to a PostgreSQL database."
        )
    url = load_settings(env_file=None, database_url=url).database_url
    one = await run_round(url, messages, 1)
    _show(one, messages)
    three = await run_round(url, messages, 3)
    _show(three, messages)
    print(f"three workers vs one: {one.seconds / three.seconds:.2f}x the throughput")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
