"""`/baton owner` latency with 100,000 accounts, against a bare Bolt app answering a constant.

Both apps are served the same way (aiohttp + Bolt's AsyncApp, signed requests from the
sandbox driver over loopback HTTP), in the same run, so the ratio is what Baton's own work
costs on top of Slack's plumbing. Run: `.venv/bin/python bench/owner_latency.py [accounts]`.
"""

from __future__ import annotations

import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.platform.scopes import granted_scopes
from bot.platform.settings import load_settings
from bot.runtime.runner import BotServer
from bot.runtime.server import _slack_events
from bot.sandbox import SandboxWorkspace, SlackDriver, SlackSandbox
from storage.db import make_engine
from storage.migrate import upgrade
from storage.models import Account, Milestone

BATCH = 5000
ROUNDS = 300


def populate(url: str, team: str, count: int, people: list[str], managers: list[str]) -> None:
    engine = make_engine(url)
    upgrade(engine)
    closed = datetime(2026, 1, 5, 15, tzinfo=UTC)
    with engine.begin() as connection:
        for start in range(0, count, BATCH):
            rows = []
            for n in range(start, min(start + BATCH, count)):
                renewal = date(2027, 1, 4) + timedelta(days=n % 365)
                rows.append(
                    {
                        "team_id": team,
                        "crm_id": f"CRM-{n:06}",
                        "name": "Acme Robotics" if n == count // 2 else f"Customer {n:06} Ltd",
                        "arr": 40000 + (n % 90) * 1000,
                        "currency": "USD",
                        "contract_start": renewal - timedelta(days=365),
                        "renewal_date": renewal,
                        "term_months": 12,
                        "ae_email": f"ae{n % 200}@example.test",
                        "csm_email": f"csm{n % 200}@example.test",
                        "ae_user_id": people[n % len(people)],
                        "csm_user_id": people[(n + 7) % len(people)],
                        "manager_user_id": managers[n % len(managers)],
                        "channel_id": f"C{n:08}",
                        "channel_name": f"acct-customer-{n:06}",
                        "retention_model": "ABCD"[n % 4],
                        "status": "handed_off",
                        "closed_at": closed,
                        "provisioned_at": closed,
                        "packet_completed_at": closed,
                        "created_at": closed,
                        "updated_at": closed,
                    }
                )
            connection.execute(Account.__table__.insert(), rows)
        ids = connection.execute(
            Account.__table__.select().with_only_columns(Account.id, Account.renewal_date)
        ).all()
        for start in range(0, len(ids), BATCH):
            rows = [
                {
                    "team_id": team,
                    "account_id": i,
                    "renewal_date": r,
                    "key": key,
                    "title": title,
                    "due_date": r - timedelta(days=days),
                    "owners": ["csm"],
                    "status": "open",
                    "snoozes": 0,
                    "round": 0,
                    "created_at": closed,
                }
                for i, r in ids[start : start + BATCH]
                for key, title, days in (
                    ("day-120", "Business review", 120),
                    ("day-30", "Final redline", 30),
                )
            ]
            connection.execute(Milestone.__table__.insert(), rows)
    engine.dispose()


async def bare_app(
    workspace: SandboxWorkspace, api_url: str, secret: str
) -> tuple[web.AppRunner, str]:
    app = AsyncApp(
        token=workspace.bot_token,
        signing_secret=secret,
        client=AsyncWebClient(token=workspace.bot_token, base_url=api_url),
    )

    @app.command("/baton")
    async def constant(ack) -> None:  # noqa: ANN001
        await ack(response_type="ephemeral", text="Acme Robotics is owned by someone.")

    runner = web.AppRunner(make_web_app_for(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


def make_web_app_for(app: AsyncApp) -> web.Application:
    web_app = web.Application()
    web_app.router.add_post("/slack/events", _slack_events(app))
    return web_app


async def timed(driver: SlackDriver, user, text: str) -> float:  # noqa: ANN001
    start = time.perf_counter()
    reply = await driver.command(user, text)
    elapsed = time.perf_counter() - start
    assert reply.status == 200, reply.text
    return elapsed


async def main(count: int) -> None:
    workspace = SandboxWorkspace(bot_scopes=granted_scopes())
    sandbox = SlackSandbox(workspace)
    await sandbox.start()
    people = [workspace.add_user(f"u{n}", f"User {n}", f"u{n}@example.test").id for n in range(200)]
    managers = people[:10]
    asker = workspace.users[managers[0]]
    secret = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        began = time.perf_counter()
        populate(url, workspace.team_id, count, people, managers)
        print(
            f"{count:,} accounts (+{2 * count:,} milestones) written in {time.perf_counter() - began:.1f} s"
        )
        settings = load_settings(
            env_file=None,
            slack_bot_token=workspace.bot_token,
            slack_signing_secret=secret,
            slack_api_url=sandbox.api_url,
            database_url=url,
        )
        baton = BotServer(settings, ticker=False)
        await baton.start(host="127.0.0.1", port=0)
        bare_runner, bare_url = await bare_app(workspace, sandbox.api_url, secret)
        baton_driver = SlackDriver(sandbox, baton.url, secret)
        bare_driver = SlackDriver(sandbox, bare_url, secret)
        queries = {
            "exact name": "owner Acme Robotics",
            "CRM id": f"owner crm-{count // 3:06}",
            "words": "owner robotics acme",
        }
        try:
            for _ in range(20):  # warm both up (connections, caches, Bolt's authorize)
                await timed(bare_driver, asker, "owner acme")
                for text in queries.values():
                    await timed(baton_driver, asker, text)
            bare = [await timed(bare_driver, asker, "owner acme") for _ in range(ROUNDS)]
            base = statistics.median(bare)
            print(f"bare Bolt app, constant answer: median {base * 1000:.2f} ms")
            for label, text in queries.items():
                times = []
                for _ in range(ROUNDS):
                    times.append(await timed(baton_driver, asker, text))
                    bare.append(await timed(bare_driver, asker, "owner acme"))
                median = statistics.median(times)
                p95 = statistics.quantiles(times, n=20)[-1]
                print(
                    f"/baton {text!r:28} ({label}): median {median * 1000:.2f} ms, p95 "
                    f"{p95 * 1000:.2f} ms — {median / statistics.median(bare):.2f}× the bare app"
                )
            miss = [await timed(baton_driver, asker, "owner acme robotcs") for _ in range(10)]
            print(
                f"/baton 'owner acme robotcs' (no match: closest names over {count:,}): median "
                f"{statistics.median(miss) * 1000:.1f} ms — "
                f"{statistics.median(miss) / statistics.median(bare):.1f}× the bare app"
            )
        finally:
            await baton_driver.close()
            await bare_driver.close()
            await bare_runner.cleanup()
            await baton.stop()
            await sandbox.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
