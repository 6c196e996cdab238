"""A burst of closed-won webhooks: how fast is each answered, and how fast are the accounts
set up in Slack against what Slack allows (conversations.create is Tier 2, 20 a minute)?

A real `BotServer` (HTTP, scheduler and set-up worker on, real clock) against the sandbox
with its rate limits on. Slack (the sandbox) and the CRM are processes of their own, as in
life: answering Slack's API and posting the deals are not Baton's work, and neither shares
Baton's event loop. It posts one deal first, alone: a Baton that has been up has taken
deals before, so its statements are compiled (this one's answer is shown apart, as the
cold start). Then it posts the burst, all deals at once, 50 at a time in flight on fresh
connections, and times each answer from its side. Then `baton status` is run once, to show
the backlog, and the run waits until every account, the first deal's too, is set up
(channel, invites, topic, bookmark, welcome). "Allowed" is the time Slack's Tier 2 permits for that many channels: a
minute's burst, then 20 a minute. The ratio is allowed / taken.

Run: `.venv/bin/python bench/intake.py [deals] [--in-flight N] [--answers-only]` (default
60 deals: three minutes; 500 take about 25, or seconds with `--answers-only`). SQLite in a temporary file, or the database in
BATON_TEST_DATABASE_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.handoff.webhook_auth import signed_headers
from bot.platform.scopes import granted_scopes
from bot.platform.settings import load_settings
from bot.runtime.runner import BotServer, set_startup_aside
from bot.sandbox import SandboxWorkspace, SlackSandbox
from bot.sandbox.rules import TIER_PER_MINUTE
from storage.accounts import count_setup_due

SECRET = "bench-webhook-secret"
IN_FLIGHT = 50
BATON = Path(sys.executable).with_name("baton")


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


async def crm(url: str, deals: int, in_flight: int) -> None:
    """The CRM's side (in its own process): post every deal, print each answer's seconds."""
    gate = asyncio.Semaphore(in_flight)

    async def post(http: aiohttp.ClientSession, n: int) -> float:
        body = deal(n)
        async with gate:
            headers = signed_headers(SECRET, body, int(time.time()))
            headers["Content-Type"] = "application/json"
            began = time.perf_counter()
            async with http.post(url, data=body, headers=headers) as reply:
                text = await reply.text()
            assert reply.status == 202, text
            return time.perf_counter() - began

    async with aiohttp.ClientSession(trust_env=False) as http:
        started = time.time()
        warm = await post(http, deals)  # not the burst's: see the module's docstring
    async with aiohttp.ClientSession(trust_env=False) as http:  # fresh connections
        began = time.perf_counter()
        latencies = await asyncio.gather(*(post(http, n) for n in range(deals)))
        seconds = time.perf_counter() - began
    print(
        json.dumps({"latencies": latencies, "seconds": seconds, "started": started, "warm": warm})
    )


async def burst(url: str, deals: int, in_flight: int) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        str(deals),
        "--in-flight",
        str(in_flight),
        "--crm",
        url,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await process.communicate()
    if process.returncode:
        raise SystemExit(f"the CRM process failed ({process.returncode})")
    return json.loads(out)


async def backlog_shown(url: str) -> str:
    """`baton status`'s backlog line, from the command itself."""
    process = await asyncio.create_subprocess_exec(
        str(BATON),
        "status",
        env={**os.environ, "DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await process.communicate()
    lines = out.decode().splitlines()
    return next(
        (line.strip() for line in lines if "set-up" in line or "set up" in line), out.decode()
    )


async def settled(server: BotServer, team: str) -> None:
    """Until no account waits for its set-up (the database says; looked at each second)."""
    waiting = server.services.db.run_sync(count_setup_due, team)
    while waiting:
        await asyncio.sleep(1)
        waiting = server.services.db.run_sync(count_setup_due, team)


async def slack() -> None:
    """Slack's side (in its own process): the sandbox, with its rate limits on. It prints
    where it answers, then what it was asked once its stdin closes."""
    ws = SandboxWorkspace(bot_scopes=granted_scopes())
    for n in range(7):
        ws.add_user(f"ae{n}", f"AE {n}", f"ae{n}@x.test")
    for n in range(5):
        ws.add_user(f"csm{n}", f"CSM {n}", f"csm{n}@x.test")
    ws.add_user("lead", "Lead", "lead@x.test")
    sandbox = SlackSandbox(ws)
    await sandbox.start()
    print(json.dumps({"api_url": sandbox.api_url, "token": ws.bot_token, "team": ws.team_id}))
    sys.stdout.flush()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await sandbox.stop()
    asked = {
        "created": len(sandbox.calls_of("conversations.create")),
        "lookups": len(sandbox.calls_of("users.lookupByEmail")),
        "limited": sum(1 for call in sandbox.calls if call.status == 429),
    }
    print(json.dumps(asked))


async def main(deals: int, in_flight: int, answers_only: bool, role: str = "all") -> None:
    slack_side = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--slack",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert slack_side.stdin is not None and slack_side.stdout is not None
    where = json.loads(await slack_side.stdout.readline())
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BATON_TEST_DATABASE_URL") or f"sqlite:///{Path(tmp)}/intake.db"
        settings = load_settings(
            env_file=None,
            slack_bot_token=where["token"],
            slack_signing_secret=secrets.token_hex(8),
            slack_api_url=where["api_url"],
            database_url=url,
            baton_webhook_secret=SECRET,
        )
        server = BotServer(settings, tick_seconds=5, role=role)
        await server.start(host="127.0.0.1", port=0)
        set_startup_aside()  # as `baton run` does
        try:
            crm_side = await burst(server.url + "/crm/closed-won", deals, in_flight)
            slow = sorted(crm_side["latencies"])
            p99 = slow[min(len(slow) - 1, int(len(slow) * 0.99))]
            print(f"deals posted          {deals}, {in_flight} in flight on fresh connections "
                  f"(all answered in {crm_side['seconds']:.2f} s; the machine's load average "
                  f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")  # fmt: skip
            print(f"202 latency           p50 {statistics.median(slow) * 1000:.1f} ms, "
                  f"p99 {p99 * 1000:.1f} ms, max {slow[-1] * 1000:.1f} ms "
                  f"(the first deal, alone and cold: {crm_side['warm'] * 1000:.1f} ms)")  # fmt: skip
            print(f"baton status then     {await backlog_shown(url)}", flush=True)
            if not answers_only:
                await settled(server, where["team"])
            seconds = time.time() - crm_side["started"]
        finally:
            await server.stop()
            slack_side.stdin.close()
            asked = json.loads(await slack_side.stdout.readline())
            await slack_side.wait()
    if answers_only:
        return
    per_minute = TIER_PER_MINUTE[2]
    allowed = max(0, deals + 1 - per_minute) / (per_minute / 60)
    created = asked["created"]
    print(f"set up                {created} channels ({deals} + the first) in {seconds:.1f} s "
          f"({created / seconds * 60:.1f} a minute)")  # fmt: skip
    if allowed:
        print(f"Tier 2 allows it in   {allowed:.1f} s: ratio {allowed / seconds:.2f}")
    else:
        print("Tier 2 allows it all in its first minute's burst")
    print(
        f"Slack 429s            {asked['limited']} (users.lookupByEmail calls: {asked['lookups']})"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("deals", type=int, nargs="?", default=60)
    parser.add_argument("--in-flight", type=int, default=IN_FLIGHT)
    parser.add_argument("--answers-only", action="store_true", help="stop after the answers")
    parser.add_argument(
        "--role", choices=("all", "web"), default="all", help="web: no worker in this process"
    )
    parser.add_argument("--crm", metavar="URL", help=argparse.SUPPRESS)  # the CRM's process
    parser.add_argument("--slack", action="store_true", help=argparse.SUPPRESS)  # Slack's
    args = parser.parse_args()
    if args.slack:
        asyncio.run(slack())
    elif args.crm:
        asyncio.run(crm(args.crm, args.deals, args.in_flight))
    else:
        asyncio.run(main(args.deals, args.in_flight, args.answers_only, args.role))
