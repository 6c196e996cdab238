"""Peak RSS of `baton run --role all` at 100,000 accounts, serving `/baton owner` while its
ticks plan accounts and send what is owed.

The bench fills a database (bench/book.py), starts `baton run` in a process of its own
against the sandbox Slack, owes it work (every account due for planning, a few thousand
DMs), then asks every kind of `owner` lookup in turn for `--seconds` while the tick runs
every second. It prints the process's resident set right after start-up and its peak
(the kernel's VmHWM, /proc/<pid>/status) at the end, with what the ticks got done.

Run: `.venv/bin/python bench/rss.py [accounts] [--seconds S]` (SQLite in a temporary
file; `--database-url postgresql+psycopg://…` uses a scratch schema there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import tempfile
import time
from pathlib import Path

from book import (
    ASKED,
    account_name,
    baton,
    baton_env,
    database,
    owe_work,
    populate,
    progress,
    timed,
)

from bot.platform.scopes import granted_scopes
from bot.sandbox import SandboxWorkspace, SlackDriver, SlackSandbox
from storage.db import make_engine

GOAL_MB = 150


def asks(count: int) -> list[tuple[str, str]]:
    """What is asked, in turn, and what each answer must say."""
    return [
        (f"owner {ASKED}", "Business review"),
        (f"owner crm-{count // 3:06}", account_name(count // 3, count)),
        ("owner robotics acme", "Business review"),
        ("owner acme robotcs", "The closest names"),
        ("owner pioneer", "Several accounts match"),
    ]


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (now) and VmHWM (the peak so far) of a process, in MB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


async def main(count: int, pg_url: str | None, seconds: float) -> None:
    workspace = SandboxWorkspace(bot_scopes=granted_scopes())
    sandbox = SlackSandbox(workspace)
    await sandbox.start()
    people = [workspace.add_user(f"u{n}", f"User {n}", f"u{n}@example.test").id for n in range(200)]
    asker = workspace.users[people[0]]
    secret = secrets.token_hex(16)
    driver: SlackDriver | None = None
    try:
        with tempfile.TemporaryDirectory() as tmp, database(pg_url, Path(tmp)) as url:
            populate(url, workspace.team_id, count, people, people[:10])
            env = baton_env(workspace, sandbox.api_url, secret, url, tick_seconds=1)
            engine = make_engine(url)
            async with baton("all", env) as server:
                started = memory_mb(server.pid)["VmRSS"]
                driver = SlackDriver(sandbox, server.url, secret)
                owed = owe_work(url, workspace.team_id, people, 3000, "rss")
                before = progress(engine, owed)
                lookups, asked, end = asks(count), 0, time.monotonic() + seconds
                while time.monotonic() < end:
                    await timed(driver, asker, *lookups[asked % len(lookups)])
                    asked += 1
                done = progress(engine, owed).since(before)
                peak = memory_mb(server.pid)["VmHWM"]
            engine.dispose()
        print(
            f"baton run --role all, {count:,} accounts, {'PostgreSQL' if pg_url else 'SQLite'}: "
            f"{started:.0f} MB after start-up; peak {peak:.0f} MB over {seconds:.0f} s of "
            f"{asked:,} owner lookups while ticking ({done}); goal ≤ {GOAL_MB} MB: "
            f"{peak / GOAL_MB:.2f} of it"
        )
    finally:
        if driver is not None:
            await driver.close()
        with contextlib.suppress(Exception):
            await sandbox.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", nargs="?", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.database_url, args.seconds))
