"""What a tick costs on a small book and a big one: it should cost what is due, not the
size of the book.

Each book (10,000 rows, then `rows`, default 1,000,000) is a tenth accounts (provisioned,
each with a manager, next planned some day ahead), four tenths their renewal milestones
and half messages (three in four sent, one in four owed some day ahead), in one workspace of a loopback Slack sandbox (its rate
limits on, the workspace's posting limit out of the way). On each book, in this order:

- a tick with nothing due: the median of fifty;
- planning 500 new accounts (closed yesterday, people known): ms per account, the median
  of three batches;
- a tick with 1,000 messages due (1,000 DMs): the median of three, each sending them all.

It prints each figure per book and the ratio big / small from this one run (each book
measured in a process of its own, as a deployment holds one book).

Run: `.venv/bin/python bench/tick_cost.py [rows]` (SQLite in a temporary file, or the
database in BATON_TEST_DATABASE_URL, emptied first).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select, text

from bot.outbox.planning import plan_due
from bot.outbox.tick import run_tick
from bot.platform.scopes import granted_scopes
from bot.platform.services import Services
from bot.platform.settings import load_settings
from bot.runtime.runner import identify, make_services
from bot.sandbox import SandboxWorkspace, SlackSandbox
from storage import outbox
from storage.migrate import upgrade
from storage.models import Account, Milestone, OutboxMessage, Person

START = datetime(2027, 1, 5, 9, tzinfo=UTC)  # a Tuesday: no Monday digest falls due
CHUNK = 20_000
TICKS = 50
DUE_TICKS = 3
NEW_ACCOUNTS = 500
PLANNING_ROUNDS = 3
DUE = 1_000
PEOPLE = 200  # AEs and CSMs of the book
MANAGERS = 20
STEPS = (("day-120", 120), ("day-90", 90), ("day-30", 30), ("day-7", 7))


@dataclass
class Figures:
    idle_ms: float
    planning_ms: float  # per account
    due_ms: float
    due_sent: int


def _empty(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _account(team: str, n: int, now: datetime, *, new: bool) -> dict:
    closed = now - timedelta(days=1 if new else 200 + n % 100)
    renewal = (now + timedelta(days=30 + n % 300)).date()
    person = n % PEOPLE
    return {
        "team_id": team,
        "crm_id": f"{'NEW' if new else 'CRM'}-{n:07}",
        "name": f"Customer {n:07}",
        "arr": 40_000 + n % 90 * 1000,
        "currency": "USD",
        "contract_start": renewal - timedelta(days=365),
        "renewal_date": renewal,
        "term_months": 12,
        "ae_email": f"ae{person}@example.test",
        "csm_email": f"csm{person}@example.test",
        "ae_user_id": f"UAE{person:04}",
        "csm_user_id": f"UCSM{person:04}",
        "manager_user_id": f"UMGR{n % MANAGERS:04}",
        "channel_id": f"C{n:09}",
        "channel_name": f"acct-customer-{n:07}",
        "retention_model": "ABCD"[n % 4],
        "status": "handoff_pending" if new else "handed_off",
        "closed_at": closed,
        "provisioned_at": closed,
        "packet_completed_at": None if new else closed,
        # The book's accounts are planned already: each comes back some day ahead.
        "plan_after": now if new else now + timedelta(days=1 + n % 60),
        "created_at": closed,
        "updated_at": closed,
    }


def _milestones(team: str, accounts: list[tuple[int, date]], now: datetime) -> list[dict]:
    return [
        {
            "team_id": team,
            "account_id": account_id,
            "renewal_date": renewal,
            "key": key,
            "title": key,
            "due_date": renewal - timedelta(days=days),
            "owners": ["csm"],
            "status": "open" if renewal - timedelta(days=days) > now.date() else "done",
            "snoozes": 0,
            "round": 0,
            "created_at": now,
        }
        for account_id, renewal in accounts
        for key, days in STEPS
    ]


def _messages(team: str, start: int, stop: int, now: datetime) -> list[dict]:
    """Three in four sent long ago, one in four owed some day ahead."""
    return [_message(team, n, now, sent=n % 4 != 0) for n in range(start, stop)]


def _message(team: str, n: int, now: datetime, *, sent: bool) -> dict:
    return {
        "team_id": team,
        "dedupe_key": f"k{n}",
        "channel": f"U{n % 500}",
        "text": "sent long ago" if sent else "owed ahead",
        "due_at": now + timedelta(days=(-1 if sent else 1) * (1 + n % 300)),
        "status": "sent" if sent else "pending",
        "kind": "message",
        "attempts": 1 if sent else 0,
        "created_at": now,
        "sent_at": now if sent else None,
        "sent_channel": "D1" if sent else None,
        "sent_ts": f"{n}.0" if sent else None,
    }


def fill(services: Services, team: str, rows: int, now: datetime) -> None:
    """A book of `rows` rows: a tenth accounts, four tenths milestones, half messages."""
    count = rows // 10
    messages = rows - count - count * len(STEPS)
    people = [f"UAE{n:04}" for n in range(PEOPLE)] + [f"UCSM{n:04}" for n in range(PEOPLE)]
    people += [f"UMGR{n:04}" for n in range(MANAGERS)]
    with services.engine.begin() as connection:
        connection.execute(
            insert(Person.__table__),
            [
                {
                    "team_id": team,
                    "user_id": u,
                    "real_name": u,
                    "tz": "America/New_York",
                    "refreshed_at": now,
                    "outsider": False,
                }  # fmt: skip
                for u in people
            ],
        )
        for start in range(0, count, CHUNK // 4):
            stop = min(count, start + CHUNK // 4)
            connection.execute(
                insert(Account.__table__),
                [_account(team, n, now, new=False) for n in range(start, stop)],
            )
        accounts = connection.execute(select(Account.id, Account.renewal_date)).all()
        for start in range(0, len(accounts), CHUNK // 4):
            connection.execute(
                insert(Milestone.__table__),
                _milestones(team, [tuple(a) for a in accounts[start : start + CHUNK // 4]], now),
            )
        for start in range(0, messages, CHUNK):
            connection.execute(
                insert(OutboxMessage.__table__),
                _messages(team, start, min(messages, start + CHUNK), now),
            )
    # Settled as a database in use would be: PostgreSQL vacuumed and analysed (as autovacuum
    # does after such a load) and checkpointed (the load's writes not flushed during the
    # measuring), SQLite's write-ahead log folded in (not left to the first measured unit).
    postgres = services.engine.dialect.name == "postgresql"
    settle = ["VACUUM ANALYZE", "CHECKPOINT"] if postgres else ["PRAGMA wal_checkpoint(TRUNCATE)"]
    with services.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for statement in settle:
            connection.execute(text(statement))


async def idle_tick(services: Services, clock: Callable[[], datetime]) -> float:
    await run_tick(services, clock(), seconds=1)  # warm: the digests get owed (not due yet)
    times = []
    for _ in range(TICKS):
        began = time.perf_counter()
        await run_tick(services, clock(), seconds=1)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def planning(services: Services, team: str, clock: Callable[[], datetime]) -> float:
    """ms per account to plan 500 new accounts (the planning stage alone): the median of
    three such batches."""
    per_account = []
    for round_ in range(PLANNING_ROUNDS):
        now = clock()
        first = 9_000_000 + round_ * NEW_ACCOUNTS
        with services.engine.begin() as connection:
            connection.execute(
                insert(Account.__table__),
                [_account(team, first + n, now, new=True) for n in range(NEW_ACCOUNTS)],
            )
        began = time.perf_counter()
        await plan_due(services, now)
        per_account.append((time.perf_counter() - began) / NEW_ACCOUNTS)
        with services.engine.connect() as connection:
            left = connection.execute(
                select(Account.id).where(Account.plan_after <= now).limit(1)
            ).first()
        assert left is None, "every new account was planned"
    return statistics.median(per_account)


async def due_tick(
    services: Services, team: str, people: list[str], clock: Callable[[], datetime]
) -> tuple[float, int]:
    """The median tick that sends 1,000 due DMs, and how many the last one sent."""
    times, sent = [], 0
    for round_ in range(DUE_TICKS):
        now = clock()
        services.db.run_sync(
            outbox.enqueue_many,
            [
                outbox.OwedMessage(team, f"due-{round_}-{n}", person, f"due {n}", now)
                for n, person in enumerate(people)
            ],
        )
        began = time.perf_counter()
        report = await run_tick(services, now, seconds=60)
        times.append(time.perf_counter() - began)
        sent = len(report.sent)
        await asyncio.sleep(1.1)  # the sandbox's per-channel pace: each DM's channel is free again
    return statistics.median(times), sent


async def measure(url: str, rows: int) -> Figures:
    sandbox = SlackSandbox(SandboxWorkspace(bot_scopes=granted_scopes()))
    sandbox.limiter.posts_per_minute = 100_000
    await sandbox.start()
    began = time.monotonic()

    def clock() -> datetime:  # the bench's calendar, running at the speed of real time
        return START + timedelta(seconds=time.monotonic() - began)

    settings = load_settings(
        env_file=None,
        slack_bot_token=sandbox.workspace.bot_token,
        slack_signing_secret=secrets.token_hex(8),
        slack_api_url=sandbox.api_url,
        database_url=url,
        baton_slack_posts_per_minute=100_000,
    )
    services = make_services(settings, clock)
    try:
        upgrade(services.engine)
        await identify(services)
        team = sandbox.workspace.team_id
        people = [
            sandbox.workspace.add_user(f"d{n}", f"D {n}", f"d{n}@x.test").id for n in range(DUE)
        ]
        fill(services, team, rows, clock())
        idle = await idle_tick(services, clock)
        per_account = await planning(services, team, clock)
        due, sent = await due_tick(services, team, people, clock)
    finally:
        await sandbox.stop()
        services.engine.dispose()
    return Figures(idle * 1000, per_account * 1000, due * 1000, sent)


def measure_apart(url: str, rows: int) -> Figures:
    """One book measured in a process of its own, as a deployment holds one book: what an
    earlier book left in this process (its garbage, its caches) is not charged to the next."""
    done = subprocess.run(
        [sys.executable, __file__, "--one-book", str(rows), url],
        capture_output=True,
        text=True,
        check=True,
    )
    return Figures(**json.loads(done.stdout.splitlines()[-1]))


async def main(rows: int) -> None:
    shared = os.environ.get("BATON_TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for index, count in enumerate((10_000, rows)):
            url = shared or f"sqlite:///{Path(tmp)}/tick{index}.db"
            if shared:
                _empty(url)
            results.append(measure_apart(url, count))
    small, big = results
    where = "PostgreSQL" if shared else "SQLite"
    label = f"{rows:,} rows"
    print(f"{where}: a tick on 10,000 rows vs {label} (a tenth accounts, four tenths milestones)")
    print(f"  {'':40}{'10,000 rows':>12}{label:>18}{'ratio':>8}")
    for name, a, b in (
        (f"tick, nothing due (median of {TICKS}), ms", small.idle_ms, big.idle_ms),
        (f"tick, {DUE:,} due (median of {DUE_TICKS}), ms", small.due_ms, big.due_ms),
        (f"planning {NEW_ACCOUNTS} new accounts, ms/account", small.planning_ms, big.planning_ms),
    ):
        print(f"  {name:40}{a:>12.2f}{b:>18.2f}{b / a:>8.2f}")
    print(f"  sent by the last {DUE:,}-due tick: {small.due_sent:,} and {big.due_sent:,}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one-book"]:
        figures = asyncio.run(measure(sys.argv[3], int(sys.argv[2])))
        print(json.dumps(dataclasses.asdict(figures)))
    else:
        asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
