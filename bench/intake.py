"""A burst of closed-won webhooks: how fast is each answered, and how fast are the accounts
set up in Slack against what Slack allows (conversations.create is Tier 2, 20 a minute)?

A real `BotServer` (HTTP, scheduler and set-up worker on, real clock) against the sandbox
with its rate limits on. All deals are posted at once, 50 at a time in flight; then the
run waits until every account is set up (channel, invites, topic, bookmark, welcome).
"Allowed" is the time Slack's Tier 2 permits for that many channels: a minute's burst,
then 20 a minute. The ratio is allowed / taken.

Run: `.venv/bin/python bench/intake.py [deals]` (default 60: three minutes; 500 takes
about 25). SQLite in a temporary file, or the database in BATON_TEST_DATABASE_URL.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.handoff.webhook_auth import signed_headers
from bot.platform.scopes import granted_scopes
from bot.platform.settings import load_settings
from bot.runtime.runner import BotServer
from bot.sandbox import SandboxWorkspace, SlackDriver, SlackSandbox
from bot.sandbox.rules import TIER_PER_MINUTE
from storage.accounts import count_setup_due

SECRET = "bench-webhook-secret"
IN_FLIGHT = 50


def deal(n: int) -> bytes:
    return json.dumps(
        {
            "crm_id": f"B-{n}",
            "account_name": f"Burst {n}",
            "arr": 50000 + n,
            "contract_start": "2027-01-04",
            "renewal_date": "2028-01-04",
            "ae_email": f"ae{n % 7}@x.test",
            "csm_email": f"csm{n % 5}@x.test",
            "manager_email": "lead@x.test",
        }
    ).encode()


async def settled(server: BotServer, team: str) -> None:
    """Until no account waits for its set-up (the database says; looked at each second)."""
    waiting = server.services.db.run_sync(count_setup_due, team)
    while waiting:
        await asyncio.sleep(1)
        waiting = server.services.db.run_sync(count_setup_due, team)


async def main(deals: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BATON_TEST_DATABASE_URL") or f"sqlite:///{Path(tmp)}/intake.db"
        ws = SandboxWorkspace(bot_scopes=granted_scopes())
        for n in range(7):
            ws.add_user(f"ae{n}", f"AE {n}", f"ae{n}@x.test")
        for n in range(5):
            ws.add_user(f"csm{n}", f"CSM {n}", f"csm{n}@x.test")
        ws.add_user("lead", "Lead", "lead@x.test")
        sandbox = SlackSandbox(ws)
        await sandbox.start()
        settings = load_settings(
            env_file=None,
            slack_bot_token=ws.bot_token,
            slack_signing_secret=secrets.token_hex(8),
            slack_api_url=sandbox.api_url,
            database_url=url,
            baton_webhook_secret=SECRET,
        )
        server = BotServer(settings, tick_seconds=5)
        await server.start(host="127.0.0.1", port=0)
        driver = SlackDriver(sandbox, server.url, settings.slack_signing_secret)
        latencies: list[float] = []
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def post(n: int) -> None:
            body = deal(n)
            async with gate:
                began = time.perf_counter()
                reply = await driver.post(
                    "/crm/closed-won",
                    body,
                    "application/json",
                    signed_headers(SECRET, body, int(time.time())),
                )
                latencies.append(time.perf_counter() - began)
                assert reply.status == 202, reply.text

        began = time.monotonic()
        try:
            await asyncio.gather(*(post(n) for n in range(deals)))
            answered = time.monotonic() - began
            team = ws.team_id
            await settled(server, team)
            seconds = time.monotonic() - began
        finally:
            await driver.close()
            await server.stop()
            await sandbox.stop()
    per_minute = TIER_PER_MINUTE[2]
    allowed = max(0, deals - per_minute) / (per_minute / 60)
    created = len(sandbox.calls_of("conversations.create"))
    slow = sorted(latencies)
    p99 = slow[min(len(slow) - 1, int(len(slow) * 0.99))]
    lookups = sandbox.calls_of("users.lookupByEmail")
    print(f"deals posted          {deals} (answered in {answered:.1f} s)")
    print(f"202 latency           p50 {statistics.median(slow) * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms")  # fmt: skip
    print(f"set up                {created} channels in {seconds:.1f} s "
          f"({created / seconds * 60:.1f} a minute)")  # fmt: skip
    if allowed:
        print(f"Tier 2 allows it in   {allowed:.1f} s: ratio {allowed / seconds:.2f}")
    else:
        print("Tier 2 allows it all in its first minute's burst")
    limited = sum(1 for c in sandbox.calls if c.status == 429)
    print(f"Slack 429s            {limited} (users.lookupByEmail calls: {len(lookups)})")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 60))
