"""What the owner and RSS benches share: a book of accounts in a database, real `baton run`
processes (and a bare Bolt app) against the sandbox Slack, work for their ticks, and timed
`/baton` requests.

The servers run in processes of their own, as in production; the sandbox Slack and the
driver that plays the people run in the bench's process. Nothing the bench does (signing,
Slack's side of every call) competes with the server being measured for its GIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import Engine, create_engine, func, select, text, update

from bot.platform.settings import load_settings
from bot.sandbox import SandboxWorkspace, SlackDriver, User
from bot.sandbox.driver import Reply
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Account, Milestone, OutboxMessage
from storage.names import index_every_name

BATCH = 5000
BATON = [sys.executable, "-m", "bot"]
CLOSED = datetime(2026, 1, 5, 15, tzinfo=UTC)
# Names as a book has them: a few thousand distinct ones, each shared by several accounts,
# their words sharing pieces with the names asked about (Acmel, Robotron).
FIRST = [
    "Acmel",
    "North",
    "Blue",
    "Global",
    "Pioneer",
    "Summit",
    "Vertex",
    "Quantum",
    "Silver",
    "Harbor",
    "Cedar",
    "Granite",
    "Apex",
    "Nova",
    "Orbit",
    "Pacific",
    "Atlas",
    "Beacon",
    "Crest",
    "Delta",
    "Evergreen",
    "Falcon",
    "Frontier",
    "Horizon",
    "Ion",
    "Juniper",
    "Keystone",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Oakridge",
    "Pinnacle",
    "Radiant",
    "Sierra",
    "Titan",
    "Union",
    "Vista",
    "Willow",
    "Zenith",
    "Cobalt",
]
SECOND = [
    "Robotron",
    "Foods",
    "Logistics",
    "Systems",
    "Health",
    "Energy",
    "Analytics",
    "Media",
    "Labs",
    "Dynamics",
    "Capital",
    "Networks",
    "Software",
    "Devices",
    "Materials",
    "Partners",
    "Solutions",
    "Industries",
    "Motors",
    "Retail",
    "Aerospace",
    "Biotech",
    "Clinics",
    "Data",
    "Freight",
    "Games",
    "Insurance",
    "Legal",
    "Marine",
    "Metals",
    "Optics",
    "Pharma",
    "Robotica",
    "Security",
    "Telecom",
    "Textiles",
    "Travel",
    "Utilities",
    "Ventures",
    "Wireless",
]
THIRD = ["Inc", "Ltd", "GmbH", "LLC", "Group", "Co", "SA", "BV", "AG", "Holdings"]
ASKED = "Acme Robotics"


def account_name(n: int, count: int) -> str:
    if n == count // 2:
        return ASKED
    return f"{FIRST[n % 40]} {SECOND[(n // 40) % 40]} {THIRD[(n // 1600) % 10]}"


def populate(url: str, team: str, count: int, people: list[str], managers: list[str]) -> None:
    """`count` handed-off accounts with two open milestones each, their names indexed."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        for start in range(0, count, BATCH):
            connection.execute(
                Account.__table__.insert(),
                [
                    _account(team, n, count, people, managers)
                    for n in range(start, min(start + BATCH, count))
                ],
            )
        ids = connection.execute(select(Account.id, Account.renewal_date)).all()
        for start in range(0, len(ids), BATCH):
            connection.execute(
                Milestone.__table__.insert(),
                [
                    _milestone(team, i, renewal, key, title, days)
                    for i, renewal in ids[start : start + BATCH]
                    for key, title, days in (
                        ("day-120", "Business review", 120),
                        ("day-30", "Final redline", 30),
                    )
                ],
            )
        index_every_name(connection)
    engine.dispose()


def _account(team: str, n: int, count: int, people: list[str], managers: list[str]) -> dict:
    renewal = date(2027, 1, 4) + timedelta(days=n % 365)
    return {
        "team_id": team,
        "crm_id": f"CRM-{n:06}",
        "name": account_name(n, count),
        "arr": 40000 + (n % 90) * 1000,
        "currency": "USD",
        "contract_start": renewal - timedelta(days=365),
        "renewal_date": renewal,
        "term_months": 12,
        "ae_email": f"u{n % len(people)}@example.test",
        "csm_email": f"u{(n + 7) % len(people)}@example.test",
        "ae_user_id": people[n % len(people)],
        "csm_user_id": people[(n + 7) % len(people)],
        "manager_user_id": managers[n % len(managers)],
        "channel_id": f"C{n:08}",
        "channel_name": f"acct-customer-{n:06}",
        "retention_model": "ABCD"[n % 4],
        "status": "handed_off",
        "closed_at": CLOSED,
        "provisioned_at": CLOSED,
        "people_checked_at": CLOSED,
        "packet_completed_at": CLOSED,
        "created_at": CLOSED,
        "updated_at": CLOSED,
    }


def _milestone(team: str, account_id: int, renewal: date, key: str, title: str, days: int) -> dict:
    return {
        "team_id": team,
        "account_id": account_id,
        "renewal_date": renewal,
        "key": key,
        "title": title,
        "due_date": renewal - timedelta(days=days),
        "owners": ["csm"],
        "status": "open",
        "snoozes": 0,
        "round": 0,
        "created_at": CLOSED,
    }


def owe_work(url: str, team: str, people: list[str], messages: int, tag: str) -> datetime:
    """Work for every tick from now on: every account due for planning again, and
    `messages` DMs owed to the people now (paced by Slack's limits as Baton keeps them);
    the instant it is owed from."""
    now = datetime.now(UTC)
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(update(Account).values(plan_after=now))
        connection.execute(
            OutboxMessage.__table__.insert(),
            [
                {
                    "team_id": team,
                    "dedupe_key": f"bench-{tag}-{n}",
                    "kind": "message",
                    "channel": people[n % len(people)],
                    "text": f"Owed message {n}",
                    "due_at": now,
                    "status": "pending",
                    "attempts": 0,
                    "created_at": now,
                }
                for n in range(messages)
            ],
        )
    engine.dispose()
    return now


@dataclass(frozen=True)
class Progress:
    """What the ticks have done so far: accounts planned, messages sent."""

    planned: int
    sent: int

    def since(self, before: Progress) -> str:
        return (
            f"{self.planned - before.planned:,} accounts planned, "
            f"{self.sent - before.sent:,} messages sent"
        )


def progress(engine: Engine, owed_from: datetime) -> Progress:
    """What the ticks did with the work owed from `owed_from` (see `owe_work`)."""
    with engine.connect() as connection:
        waiting = connection.scalar(
            select(func.count()).select_from(Account).where(Account.plan_after <= owed_from)
        )
        total = connection.scalar(select(func.count()).select_from(Account))
        sent = connection.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
        )
    return Progress(total - waiting, sent)


@contextlib.contextmanager
def database(pg_url: str | None, directory: Path) -> Iterator[str]:
    """A SQLite file in `directory`, or a fresh schema of its own in `pg_url` (dropped after)."""
    if not pg_url:
        yield f"sqlite:///{directory / 'bench.db'}"
        return
    from sqlalchemy.engine import make_url

    schema = f"bench_{os.getpid()}"
    url = load_settings(env_file=None, database_url=pg_url).database_url
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    process: asyncio.subprocess.Process
    url: str

    @property
    def pid(self) -> int:
        return self.process.pid


def baton_env(
    workspace: SandboxWorkspace, api_url: str, secret: str, url: str, tick_seconds: float
) -> dict[str, str]:
    settings = {
        "SLACK_BOT_TOKEN": workspace.bot_token,
        "SLACK_SIGNING_SECRET": secret,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": url,
        "BATON_MARKETING_REQUIRED": "false",
        "BATON_TICK_SECONDS": str(tick_seconds),
    }
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("BATON_", "SLACK_"))}
    return kept | settings | {"DATABASE_URL": url}


@contextlib.asynccontextmanager
async def serving(name: str, args: list[str], env: dict[str, str]) -> AsyncIterator[Server]:
    """A server process on a free port, until it answers /healthz; stopped with SIGTERM."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *args,
        env=env | {"PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    server = Server(name, process, f"http://127.0.0.1:{port}")
    try:
        await _healthy(server)
        yield server
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), timeout=60)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _healthy(server: Server) -> None:
    deadline = time.monotonic() + 120
    async with aiohttp.ClientSession(trust_env=False) as session:
        while time.monotonic() < deadline:
            if server.process.returncode is not None:
                raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(server.url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{server.name} did not answer /healthz")


def baton(role: str, env: dict[str, str]) -> contextlib.AbstractAsyncContextManager[Server]:
    return serving(f"baton run --role {role}", [*BATON, "run", "--role", role], env)


def bare(env: dict[str, str]) -> contextlib.AbstractAsyncContextManager[Server]:
    """A bare Bolt app answering a constant, served as Baton is (aiohttp, signed requests)."""
    return serving("bare Bolt app", [sys.executable, str(Path(__file__).with_name("bare.py"))], env)


async def timed(driver: SlackDriver, user: User, words: str, expect: str) -> float:
    start = time.perf_counter()
    reply: Reply = await driver.command(user, words)
    elapsed = time.perf_counter() - start
    answer = (reply.json or {}).get("text", "") if reply.status == 200 else reply.text
    if expect not in answer:
        raise RuntimeError(f"/baton {words!r} answered {reply.status}: {answer[:300]!r}")
    return elapsed


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    """p50, p95, p99 (nearest rank), in milliseconds."""
    ordered = sorted(samples)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(p * len(ordered)) - 1))] * 1000

    return rank(0.50), rank(0.95), rank(0.99)
