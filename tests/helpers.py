"""Helpers shared by the test modules (the only module they import from one another):
waiting for the bot, running `baton` as a process, signed CRM webhooks, what Baton posted,
hand-built Slack payloads, and reading text for markup."""

import asyncio
import itertools
import json
import logging
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bot.checkins.blocks import CHECKIN_VIEW, CLARIFY_VIEW, RATING_VIEW
from bot.handoff.blocks import MARKETING_VIEW, PACKET_VIEW
from bot.handoff.webhook_auth import signed_headers
from bot.outbox.tick import run_tick
from bot.platform.settings import Settings
from bot.renewal.blocks import (
    ASK_MORE_VIEW,
    CHECKLIST_VIEW,
    CHURNED_VIEW,
    DONE_VIEW,
    FLAG_VIEW,
    NOT_YET_VIEW,
    RENEWED_VIEW,
)
from bot.sandbox import Reply, SandboxWorkspace, SlackDriver, SlackSandbox
from bot.sandbox.state import Channel, Message, User
from tests.launch import Launched, launch
from tests.launch import run as launched_run

PG_URL = os.environ.get("BATON_TEST_DATABASE_URL")
BATON = [sys.executable, "-m", "bot"]
SETTING_NAMES = tuple(name.upper() for name in Settings.model_fields)


async def until(predicate, within_s: float = 60.0) -> None:
    """Wait for what happens in another task or process (a ticker, a `baton` subprocess, a
    listener that acked first). A listener's own effects need no wait: the tests' Bolt
    answers once its listeners are done. The deadline only turns a hang into a failure."""
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        await asyncio.sleep(0.01)


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any Baton setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.update(values)
    return env


# Only turns a hung process into a failure; generous, since a loaded 2-core machine runs
# `baton demo` several times slower than an idle one.
HANG_AFTER_S = 900


def run_baton(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`baton args…` in a process of its own, forked with Baton imported (`tests.launch`)."""
    return launched_run(list(args), clean_env(**env), cwd, HANG_AFTER_S)


def run_script(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    """`python -m bot args…`: a fresh interpreter, as the installed script starts."""
    return subprocess.run(
        [*BATON, *args],
        cwd=cwd,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=HANG_AFTER_S,
    )


# Ports for the `baton` processes a test starts: below the kernel's ephemeral range (where
# port 0 and every outgoing connection take theirs, so a port found free there can be taken
# before `baton` binds it), and a block of its own for each pytest-xdist process.
PORTS_BELOW = 32768
PORTS_PER_PROCESS = 2000
_ports = itertools.count()


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    first = PORTS_BELOW - PORTS_PER_PROCESS * (1 + int(worker) if worker.isdigit() else 1)
    for _ in range(PORTS_PER_PROCESS):
        port = first + next(_ports) % PORTS_PER_PROCESS
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (a process left over, or something else of the machine's)
            return port
    raise AssertionError("no free port in this test process's block")


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession(trust_env=False) as session:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise AssertionError(f"baton exited early: {await process.stderr.read()}")
            try:
                async with session.get(url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("baton never became healthy")


async def stop_baton(process: asyncio.subprocess.Process) -> None:
    """SIGTERM a running `baton`, and require a clean exit: status 0, no traceback."""
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(process.wait(), timeout=60)
    stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert "Traceback" not in stderr


async def run_until(bot, clock, until, step=timedelta(hours=1)) -> None:  # noqa: ANN001
    """Advance simulated time a `step` at a time, ticking as `baton run`'s scheduler would,
    but leaving out the ticks before the next work (`next_work`): such a tick changes
    nothing (tests/test_upcoming.py), so the world ends exactly as if each had run."""
    from bot.outbox.upcoming import next_work

    while clock() < until:
        steps_left = math.ceil((until - clock()) / step)
        due = await next_work(bot.services)
        idle = steps_left if due is None else math.ceil((due - clock()) / step)
        clock.advance(step * min(max(idle, 1), steps_left))
        await run_tick(bot.services)


def opened_view(workspace, user_id: str):  # noqa: ANN001, ANN201
    """The one modal open for this person."""
    views = workspace.views_of(user_id)
    assert len(views) == 1, f"{len(views)} modals open for {user_id}"
    return views[0]


# Not Baton's data but its count of Slack calls: a refusal made with a Slack call counts.
NOT_DATA = frozenset({"rate_buckets"})


def row_counts(engine) -> dict[str, int]:  # noqa: ANN001
    """Rows in every table of Baton's data: what "nothing was written" is checked against."""
    from sqlalchemy import func, select
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401 (registers the tables)

    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
            if table.name not in NOT_DATA
        }


def assert_no_tracebacks(caplog) -> None:  # noqa: ANN001
    """Nothing logged at ERROR or above, and no traceback at any level."""
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, "\n".join(f"{r.name} {r.levelname}: {r.getMessage()}" for r in bad)
    assert "Traceback" not in caplog.text


async def bare_bolt(sandbox, register):  # noqa: ANN001, ANN201
    """A bare Bolt app over HTTP (signing secret "s3cret"), for answers Baton never gives:
    (its URL, its runner to clean up)."""
    from aiohttp import web
    from slack_bolt.async_app import AsyncApp

    from bench.bare import make_web_app_for
    from bot.platform.slack_client import make_client

    app = AsyncApp(
        signing_secret="s3cret",
        client=make_client(sandbox.workspace.bot_token, sandbox.api_url),
        process_before_response=True,
    )
    register(app)
    runner = web.AppRunner(make_web_app_for(app))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    return f"http://127.0.0.1:{port}", runner


async def ask(driver, user, text: str, channel=None) -> str:  # noqa: ANN001
    """A `/baton` command's answer as the person finally sees it: the ack's text or, when
    the ack only said "Working on it…" (or nothing), what followed through response_url."""
    from bot.platform.listening import WORKING

    posts = len(driver.sandbox.response_posts)
    reply = await driver.command(user, text, channel)
    assert reply.status == 200, reply.text
    said = reply.json.get("text", "") if reply.text.strip().startswith("{") else reply.text
    if said and said != WORKING:
        return said

    later = [p for p in driver.sandbox.response_posts[posts:] if p.user == user.id]
    assert later, f"no answer to {text!r}, neither in the ack nor through response_url"
    return str(later[0].body.get("text") or "")


# --- signed CRM webhooks, and what Baton posted -------------------------------------
WEBHOOK_SECRET = "whsec-test"


def deal(**overrides: Any) -> dict[str, Any]:
    body = {
        "crm_id": "D-100",
        "account_name": "Acme Robotics",
        "arr": 80000,
        "contract_start": "2027-01-04",
        "renewal_date": "2028-01-04",
        "ae_email": "ana@example.test",
        "csm_email": "chen@example.test",
        "manager_email": "maya@example.test",
        "crm_url": "https://crm.example.test/deals/100",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


_last_stamp = 0


def fresh_stamp() -> int:
    """A signing time later than the last one: a CRM signs each delivery anew, and Baton
    refuses a repeated signature and orders CRM news by signing time."""
    global _last_stamp
    now = int(time.time())
    _last_stamp = now if _last_stamp + 1 > now + 200 else max(now, _last_stamp + 1)
    return _last_stamp


def webhook_headers(body: bytes, secret: str = WEBHOOK_SECRET, stamp: int | None = None) -> dict:
    return signed_headers(secret, body, fresh_stamp() if stamp is None else stamp)


async def closed_won(driver: SlackDriver, body: Any, **kwargs: Any) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await driver.post(
        "/crm/closed-won", raw, "application/json", webhook_headers(raw, **kwargs)
    )


# Signed Monday 4 Jan 2027 (the simulated clock's start), renewing Tuesday 4 Jan 2028.
YEAR = {"contract_start": "2027-01-04", "renewal_date": "2028-01-04"}


async def open_account(
    driver: SlackDriver,
    bot: Any,
    clock: Any,
    settle: timedelta = timedelta(hours=3),
    **overrides: Any,
) -> int:
    """A closed-won deal for a year (`YEAR`, with `overrides`), then the tick's work on it
    for `settle` of simulated time: the account's id."""
    reply = await closed_won(driver, deal(**{**YEAR, **overrides}))
    assert reply.status == 202
    await run_until(bot, clock, clock() + settle)
    return reply.json["account_id"]


def account_channel(workspace: SandboxWorkspace, name: str = "acct-acme-robotics") -> Channel:
    channel = workspace.channel_by_name(name)
    assert channel is not None, (
        f"no #{name}; channels: {[c.name for c in workspace.channels.values()]}"
    )
    return channel


def texts(channel: Channel) -> list[str]:
    return [m.text for m in channel.messages]


def find(channel: Channel, fragment: str) -> Message:
    for message in channel.messages:
        if fragment in message.text or fragment in json.dumps(
            message.blocks or [], ensure_ascii=False
        ):
            return message
    raise AssertionError(f"nothing with {fragment!r} in #{channel.name}: {texts(channel)}")


def stale_stamp() -> int:
    return int(time.time()) - 301


# --- the renewal cycle's messages and buttons -------------------------------------
def upgraded_from_0009(engine) -> None:  # noqa: ANN001
    """The outbox as a Baton before revision 0010 left it (what a message is about only in
    its dedupe key), then upgraded: each row carries what the backfill read from its key."""
    from storage.migrate import downgrade, upgrade

    downgrade(engine, "0009")
    upgrade(engine)


async def leap(bot, clock, to: datetime) -> None:  # noqa: ANN001
    """Baton was not running: the clock jumps, then one tick sees the world."""
    clock.advance(to - clock())
    await run_tick(bot.services)


def dm(sandbox, user: User) -> Channel:  # noqa: ANN001
    return sandbox.workspace.dm_channel(user.id)


def containing(channel: Channel, fragment: str) -> list[Message]:
    return [
        m
        for m in channel.messages
        if fragment in m.text or fragment in json.dumps(m.blocks or [], ensure_ascii=False)
    ]


def nudges(channel: Channel, title: str) -> list[Message]:
    return [m for m in channel.messages if m.text == f"{title} for Acme Robotics is due."]


async def press(driver, user: User, message: Message, channel: Channel, action: str) -> None:  # noqa: ANN001
    block = message.blocks[-1]
    element = next(e for e in block["elements"] if e["action_id"] == action)
    await driver.click(
        user,
        action,
        value=element["value"],
        block_id=block["block_id"],
        channel=channel,
        message_ts=message.ts,
    )


# --- the handoff packet -------------------------------------------------------------
AE_ANSWERS = {
    "goal": "Forecast renewals a quarter ahead without spreadsheets.",
    "objections": "Security review: answered with our SOC 2 report and SSO.",
    "competitors": "Gainsight; too heavy for a 6-person CS team.",
    "success_metric": "Renewal forecast accuracy within 5% by Q3.",
    "champion": "Priya Shah, VP Customer Success",
    "economic_buyer": "Tom Reed, CFO: cares about churn cost",
    "daily_users": "CS team (6) and two RevOps analysts",
    "skeptics": "Their IT lead, who wanted to build it in-house",
    "month6_risks": "Slow Salesforce sync; no exec QBR; adoption below 50%",
    "retention_model": "B",
}


# --- Slack payloads built by hand (signed as Slack signs them) ----------------------
FORM = "application/x-www-form-urlencoded"


@dataclass
class World:
    sandbox: SlackSandbox
    people: Any
    account_id: int
    milestone_id: int

    @property
    def team(self) -> str:
        return self.sandbox.workspace.team_id

    def user(self) -> dict[str, str]:
        return {"id": self.people.manager.id, "name": "maya", "team_id": self.team}

    def click(self, action_id: str, value: Any = "1", **changes: Any) -> dict[str, Any]:
        user = self.people.manager.id
        channel = self.sandbox.workspace.dm_channel(user).id
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team, "domain": "sandbox"},
            "user": self.user(),
            "api_app_id": "A0BATON",
            "token": "legacy-unused",
            "trigger_id": self.sandbox.workspace.issue_trigger(user),
            "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel},
            "channel": {"id": channel, "name": "directmessage"},
            "response_url": self.sandbox.response_url_for(user, channel),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b",
                    "value": value,
                    "action_ts": "1.000002",
                }
            ],
        }
        return {**payload, **changes}

    def submission(
        self,
        callback_id: str,
        metadata: str,
        values: dict[str, dict[str, Any]],
        kind: str = "view_submission",
        **changes: Any,
    ) -> dict[str, Any]:
        view = {
            "id": "V0HOSTILE",
            "root_view_id": "V0HOSTILE",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "blocks": [],
            "state": {"values": {block: {"value": state} for block, state in values.items()}},
        }
        payload = {
            "type": kind,
            "team": {"id": self.team, "domain": "sandbox"},
            "user": self.user(),
            "api_app_id": "A0BATON",
            "token": "legacy-unused",
            "trigger_id": self.sandbox.workspace.issue_trigger(self.people.manager.id),
            "view": view,
        }
        return {**payload, **changes}

    def command(self, text: str, **changes: Any) -> dict[str, str]:
        user = self.people.manager.id
        channel = self.sandbox.workspace.dm_channel(user).id
        fields = {
            "team_id": self.team,
            "channel_id": channel,
            "user_id": user,
            "command": "/baton",
            "text": text,
            "response_url": self.sandbox.response_url_for(user, channel),
            "trigger_id": self.sandbox.workspace.issue_trigger(user),
        }
        return {k: v for k, v in {**fields, **changes}.items() if v is not None}

    def event(self, event: Any, **changes: Any) -> dict[str, Any]:
        return {
            "type": "event_callback",
            "team_id": self.team,
            "api_app_id": "A0BATON",
            "event": event,
            "event_id": "Ev0HOSTILE",
            "event_time": 1,
            **changes,
        }


def typed(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def picked(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value}}


def day(value: str | None) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}


# Inputs that pass each modal's own checks, so the handler goes on to use its metadata.
VALID_STATE: dict[str, dict[str, dict[str, Any]]] = {
    RENEWED_VIEW: {"new_date": day("2029-01-04"), "new_arr": typed("90000")},
    CHURNED_VIEW: {"reason": picked("economic"), "effective": day("2027-01-04")},
    DONE_VIEW: {"outcome": typed("Agreed the renewal terms.")},
    CHECKLIST_VIEW: {"checklist": {"type": "checkboxes", "selected_options": [{"value": "0"}]}},
    ASK_MORE_VIEW: {"ask": typed("The usage export, please.")},
    FLAG_VIEW: {"health": picked("green")},
    NOT_YET_VIEW: {"reason": typed("Legal review."), "expected": day("2027-02-01")},
    CHECKIN_VIEW: {
        "checkin_date": day("2027-01-04"),
        "summary": typed("Fine."),
        "sentiment": picked("positive"),
    },
    CLARIFY_VIEW: {"clarification": typed("Hourly sync was agreed.")},
    RATING_VIEW: {"rating": picked("4")},
    PACKET_VIEW: {"goal": typed("Forecastable renewals.")},
    MARKETING_VIEW: {"marketing": typed("Webinar in March.")},
}


def interactive(payload: Any) -> tuple[bytes, str]:
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def form(fields: dict[str, str]) -> tuple[bytes, str]:
    return urlencode(fields).encode(), FORM


def event_body(payload: Any) -> tuple[bytes, str]:
    return json.dumps(payload).encode(), "application/json"


# --- reading what a builder returned for markup --------------------------------------
HOSTILE = "<!channel> Acme <https://evil.test|Reset your password> & co"
OWN_TOKEN = re.compile(r"<@[UW][A-Z0-9]+>|<#[CG][A-Z0-9]+>")
LOOSE_AMPERSAND = re.compile(r"&(?!amp;|lt;|gt;)")


def text_objects(node: Any, kind: str) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == kind and isinstance(node.get("text"), str):
            yield node["text"]
        for value in node.values():
            yield from text_objects(value, kind)
    elif isinstance(node, list | tuple):
        for value in node:
            yield from text_objects(value, kind)


def read(output: Any) -> tuple[list[str], list[str]]:
    """(every mrkdwn text, including a message's top-level text; every plain_text)."""
    if isinstance(output, str):
        return [output], []
    mrkdwn = list(text_objects(output, "mrkdwn"))
    if isinstance(output, tuple) and isinstance(output[0], str):
        mrkdwn.insert(0, output[0])  # (text, blocks): the text is what notifications show
    return mrkdwn, list(text_objects(output, "plain_text"))


def markup_problems(text: str) -> list[str]:
    """What in one mrkdwn text Slack would read as markup nobody at Baton wrote."""
    problems = [seq for seq in ("<!", "<http", "<mailto") if seq in text]
    if "<" in OWN_TOKEN.sub("", text):
        problems.append("a `<` that is not a mention Baton made")
    if LOOSE_AMPERSAND.search(text):
        problems.append("an unescaped `&`")
    problems += [f"double-escaped {e}" for e in ("&amp;amp;", "&amp;lt;", "&amp;gt;") if e in text]
    return problems


# --- a real `baton run` that can be killed between its ack and the rest ----------------
@dataclass
class BatonRun:
    """One `baton run` process serving HTTP against the sandbox; it logs to `log`."""

    process: asyncio.subprocess.Process | Launched
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def stop(self) -> None:
        """SIGTERM, and require a clean exit: status 0, no traceback."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), timeout=30)
        assert code == 0, self.output()
        assert "Traceback" not in self.output(), self.output()

    async def kill(self) -> None:
        """SIGKILL: no cleanup, no last words, whatever it was doing."""
        if self.process.returncode is None:
            self.process.kill()
        await asyncio.wait_for(self.process.wait(), timeout=30)


@dataclass
class BatonProcesses:
    """Starts `baton run` (and `baton tick`) against one sandbox and one database."""

    cwd: Path
    env: dict[str, str]
    started: list[BatonRun] = field(default_factory=list)

    async def run(self, tick_seconds: float = 3600, **env: str) -> BatonRun:
        """`tick_seconds=3600` (the most BATON_TICK_SECONDS takes): no tick during a test,
        so every Web API call the process makes is one a request caused."""
        port = free_port()
        log = self.cwd / f"baton-run-{len(self.started)}.log"
        env = clean_env(**self.env, PORT=str(port), BATON_TICK_SECONDS=str(tick_seconds), **env)
        # Its output to a file, not a pipe nobody reads that could fill up.
        process = launch(["run"], env, self.cwd, log)
        baton = BatonRun(process, f"http://127.0.0.1:{port}", log)
        self.started.append(baton)
        await _wait_up(baton)
        return baton

    async def ticks(self, times: list[datetime]) -> int:
        """A pass of due work as of each of `times`, as `baton tick --now` does (in this
        process, on the same database and sandbox: no process start per simulated step),
        leaving out the passes before the next work (`next_work`: they would change
        nothing). Returns how many ran."""
        from bot.outbox.upcoming import next_work
        from bot.platform.settings import load_settings
        from bot.runtime.runner import make_services

        settings = load_settings(
            env_file=None, **{k.lower(): v for k, v in self.env.items() if k in SETTING_NAMES}
        )
        services = make_services(settings)
        ran = 0
        try:
            for now in times:
                due = await next_work(services)
                if due is None or due > now:
                    continue
                await run_tick(services, now)
                ran += 1
        finally:
            services.engine.dispose()
        return ran

    async def close(self) -> None:
        for baton in self.started:
            await baton.kill()


async def _wait_up(baton: BatonRun) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession(trust_env=False) as session:
        while time.monotonic() < deadline:
            if baton.process.returncode is not None:
                raise AssertionError(f"baton exited early: {baton.output()}")
            try:
                async with session.get(baton.url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError(f"baton never became healthy: {baton.output()}")


async def crash_after_ack(
    sandbox,  # noqa: ANN001
    baton: BatonRun,
    act: Callable[[], Awaitable[Any]],
    methods: set[str] | None = None,
) -> Any:
    """Send one request with `act`, and SIGKILL `baton` between its ack and the rest.

    Every Web API call (of `methods`, if given) is stalled from the moment the request is
    sent, so nothing the listener does after its ack can reach Slack. Once the ack is back
    and a call is held, the process is killed; the held calls are never carried out. A call
    the listener makes before its ack would hold the ack too: that fails here, by name.
    Returns what `act` returned (the ack)."""
    sandbox.stall(methods)
    try:
        try:
            reply = await asyncio.wait_for(act(), timeout=60)
        except TimeoutError:
            held = [call.method for call in sandbox.stalled]
            raise AssertionError(f"no ack: the listener waits on a stalled call {held}") from None
        deadline = time.monotonic() + 60
        while not sandbox.stalled:
            assert baton.process.returncode is None, baton.output()
            assert time.monotonic() < deadline, "no Web API call after the ack"
            await asyncio.sleep(0.01)
        await baton.kill()
    finally:
        sandbox.drop_stalled()
    return reply
