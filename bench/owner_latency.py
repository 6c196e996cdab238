"""`/baton owner` at 100,000 accounts against a bare Bolt app, p50/p95/p99, idle and while
ticks run.

Baton runs as `baton run` does, in a process of its own: `--role all` (the tick in the
Background thread of the process that answers), and then `--role web` next to a
`--role worker` process. The bare Bolt app answering a constant (bench/bare.py) runs in a
process of its own too and is asked in turn with Baton, request for request, so both meet
the same machine at the same moments. Four kinds of lookup: an exact name, a CRM id,
words in another order, and a typo that matches nothing (answered with the closest names).

"While ticks run" means: every account is due for planning and a few thousand DMs are
owed, the tick runs every second, so one tick follows the other for the whole phase (the
bench prints what they got done). Under the GIL a tick in the answering process takes
turns with the answers; a worker process does not.

Run: `.venv/bin/python bench/owner_latency.py [accounts] [--rounds N]` (SQLite in a
temporary file; `--database-url postgresql+psycopg://…` uses a scratch schema there).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from book import (
    ASKED,
    account_name,
    bare,
    baton,
    baton_env,
    database,
    owe_work,
    percentiles,
    populate,
    progress,
    timed,
)

from bot.platform.scopes import granted_scopes
from bot.sandbox import SandboxWorkspace, SlackDriver, SlackSandbox, User
from storage.db import make_engine

WARM_UP = 20
OWED_MESSAGES = 3000


@dataclass(frozen=True)
class Kind:
    label: str
    words: str
    expect: str  # in the answer, or the bench stops: a wrong answer is not a fast one


def kinds(count: int) -> list[Kind]:
    return [
        Kind("exact name", f"owner {ASKED}", "Business review"),
        Kind("CRM id", f"owner crm-{count // 3:06}", account_name(count // 3, count)),
        Kind("words", "owner robotics acme", "Business review"),
        Kind("no match", "owner acme robotcs", "The closest names"),
    ]


@dataclass
class Phase:
    title: str
    baton: dict[str, list[float]]
    bare: dict[str, list[float]]
    done: str = ""


async def measure(
    title: str,
    asked: list[Kind],
    baton_driver: SlackDriver,
    bare_driver: SlackDriver,
    user: User,
    rounds: int,
) -> Phase:
    phase = Phase(title, {}, {})
    for kind in asked:
        for _ in range(WARM_UP):
            await timed(baton_driver, user, kind.words, kind.expect)
            await timed(bare_driver, user, "owner acme", "owned")
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(await timed(baton_driver, user, kind.words, kind.expect))
            theirs.append(await timed(bare_driver, user, "owner acme", "owned"))
        phase.baton[kind.label], phase.bare[kind.label] = ours, theirs
    return phase


def report(phase: Phase, idle: Phase | None) -> None:
    print(f"\n{phase.title}" + (f" — {phase.done}" if phase.done else ""))
    header = f"  {'lookup':11} {'Baton p50/p95/p99 ms':>22} {'bare p50/p95/p99 ms':>21}"
    print(header + "   ×bare p50   ×bare p99" + ("   p99 ×idle" if idle else ""))
    for label, ours in phase.baton.items():
        o50, o95, o99 = percentiles(ours)
        b50, b95, b99 = percentiles(phase.bare[label])
        line = (
            f"  {label:11} {o50:6.1f} {o95:6.1f} {o99:7.1f}   {b50:6.1f} {b95:6.1f} {b99:6.1f}"
            f"   {o50 / b50:8.2f}×   {o99 / b99:8.2f}×"
        )
        if idle:
            line += f"   {o99 / percentiles(idle.baton[label])[2]:8.2f}×"
        print(line)


async def main(count: int, pg_url: str | None, rounds: int) -> None:
    workspace = SandboxWorkspace(bot_scopes=granted_scopes())
    sandbox = SlackSandbox(workspace)
    await sandbox.start()
    people = [workspace.add_user(f"u{n}", f"User {n}", f"u{n}@example.test").id for n in range(200)]
    asker = workspace.users[people[0]]
    secret = secrets.token_hex(16)
    asked = kinds(count)
    drivers: list[SlackDriver] = []
    try:
        with tempfile.TemporaryDirectory() as tmp, database(pg_url, Path(tmp)) as url:
            began = time.perf_counter()
            populate(url, workspace.team_id, count, people, people[:10])
            print(
                f"{count:,} accounts (+{2 * count:,} milestones), names indexed, in "
                f"{time.perf_counter() - began:.1f} s; {rounds} rounds per lookup, "
                f"{'PostgreSQL' if pg_url else 'SQLite'}"
            )
            env = baton_env(workspace, sandbox.api_url, secret, url, tick_seconds=1)
            engine = make_engine(url)
            async with bare(env) as bare_server:
                bare_driver = SlackDriver(sandbox, bare_server.url, secret)
                drivers.append(bare_driver)
                async with baton("all", env) as server:
                    driver = SlackDriver(sandbox, server.url, secret)
                    drivers.append(driver)
                    idle = await measure(
                        "idle: --role all, a tick every second with nothing due",
                        asked,
                        driver,
                        bare_driver,
                        asker,
                        rounds,
                    )
                    report(idle, None)
                    owed = owe_work(url, workspace.team_id, people, OWED_MESSAGES, "all")
                    before = progress(engine, owed)
                    busy = await measure(
                        "ticking: --role all, the tick in the answering process's Background "
                        "thread",
                        asked,
                        driver,
                        bare_driver,
                        asker,
                        rounds,
                    )
                    busy.done = progress(engine, owed).since(before)
                    report(busy, idle)
                owed = owe_work(url, workspace.team_id, people, OWED_MESSAGES, "split")
                async with baton("worker", env), baton("web", env) as server:
                    driver = SlackDriver(sandbox, server.url, secret)
                    drivers.append(driver)
                    before = progress(engine, owed)
                    split = await measure(
                        "ticking: --role web answering, a --role worker process ticking",
                        asked,
                        driver,
                        bare_driver,
                        asker,
                        rounds,
                    )
                    split.done = progress(engine, owed).since(before)
                    report(split, idle)
            engine.dispose()
    finally:
        for driver in drivers:
            await driver.close()
        with contextlib.suppress(Exception):
            await sandbox.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", nargs="?", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=400)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    asyncio.run(main(args.accounts, args.database_url, args.rounds))
