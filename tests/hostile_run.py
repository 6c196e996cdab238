"""The hostile-input run: thousands of generated hostile inputs against a real `baton run`.

A real `baton run` process (HTTP mode, signing secret and webhook secret set) talks to
the sandbox Slack started in this process, on SQLite or PostgreSQL. A seeded workspace
(an account whose AE, CSM, AM and manager are known, a complete packet, a check-in,
milestones, and an account of another team) is then sent, per entry point, inputs drawn
from a seeded generator with the nasties of `tests/nasty.py`. Measured per entry point:

- inputs tried;
- 5xx answers (a request the bot did not answer at all counts too);
- tracebacks in the process's log (Python's `Traceback` blocks, chained ones once);
- rows written on rejected input: every table's rows (inserted or changed) are compared
  before and after each chunk of inputs; a chunk with no accepted input adds its whole
  difference, a chunk with accepted ones has its rejected inputs re-sent one at a time.
  Rejected means a 4xx answer, inline errors on a modal, a refusal sent back to the
  clicker, or any input to a command that only reads (those may never write);
- wrong-person successes: an outsider (a member who is none of the account's people)
  takes every action of `flows.permissions.RULES` that is not hers, by command, button
  and crafted modal submission, and any effect counts: a changed row, a modal opened for
  her, a message posted anywhere but to her. Positive controls (the right person doing
  the same) prove the detector sees an effect when there is one.

`bench/hostile.py` runs it from the command line; `tests/test_hostile_run.py` runs a
smaller one. Both fail unless every total is zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import secrets
import signal
import tempfile
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import Engine, select
from sqlmodel import Session, SQLModel

from bot.checkins.blocks import (
    CHECKIN_EDIT,
    CHECKIN_OPEN,
    CHECKIN_VIEW,
    CLARIFY_OPEN,
    CLARIFY_VIEW,
    RATE_OPEN,
    RATING_VIEW,
)
from bot.handoff.blocks import (
    ACKNOWLEDGE,
    KICKOFF_HELD,
    MARKETING_VIEW,
    NEW_ACCOUNT_VIEW,
    OPEN_MARKETING,
    OPEN_PACKET,
    PACKET_VIEW,
    QUESTIONS,
)
from bot.handoff.webhook_auth import signed_headers
from bot.ownership.home_blocks import HELP_ACTION, PAGE_ACTION
from bot.platform.kit import FIELD_ACTION
from bot.platform.scopes import granted_scopes
from bot.renewal.blocks import (
    ASK_MORE,
    ASK_MORE_VIEW,
    CHECKLIST_VIEW,
    CHURNED,
    CHURNED_VIEW,
    DONE,
    DONE_VIEW,
    FLAG,
    FLAG_VIEW,
    HANDBACK_HELD,
    HELP,
    RENEWED,
    RENEWED_VIEW,
    SNOOZE,
    SNOOZE_DAYS,
)
from bot.sandbox import SandboxWorkspace, SlackDriver, SlackSandbox, User, sign
from bot.sandbox.driver import as_slack_sends
from flows.permissions import RULES, Action, Role
from storage.db import Database, make_engine
from storage.models import Checkin, Milestone
from tests.databases import scratch_database
from tests.helpers import (
    HANG_AFTER_S,
    NOT_DATA,
    clean_env,
    free_port,
    until,
    wait_healthy,
)
from tests.launch import launch
from tests.launch import run as launched_run
from tests.nasty import IDS, NASTY_STRINGS

SIGNING_SECRET = "hostile-" + secrets.token_hex(8)
WEBHOOK_SECRET = "whsec-hostile-" + secrets.token_hex(8)
OTHER_TEAM = "T0OTHERTEAM"
GHOST = "U0GHOST0001"  # a user id Slack does not know
IN_FLIGHT = 16  # requests in flight at once (a failing request may hold one for 3 s)
CHUNK = 24
QUIET_S = 0.12  # the bot is idle when nothing has moved for this long (and no set-up is due)
SETTLE_MAX_S = 60.0
REQUEST_TIMEOUT_S = 10.0
SLACK_TIMEOUT_S = 3.0
TRACEBACK = "Traceback (most recent call last)"
CHAINED = ("During handling of the above exception", "The above exception was the direct")

ACTION_IDS = (
    OPEN_PACKET,
    OPEN_MARKETING,
    ACKNOWLEDGE,
    QUESTIONS,
    KICKOFF_HELD,
    CHECKIN_OPEN,
    CHECKIN_EDIT,
    CLARIFY_OPEN,
    RATE_OPEN,
    DONE,
    *(f"{SNOOZE}_{days}" for days in SNOOZE_DAYS),
    HELP,
    FLAG,
    RENEWED,
    CHURNED,
    HANDBACK_HELD,
    ASK_MORE,
    HELP_ACTION,
    f"{PAGE_ACTION}_prev",
    f"{PAGE_ACTION}_next",
)
# Ids no listener handles: Bolt answers 404 only after Slack's 3 s, so they are sent rarely.
UNHANDLED_ACTION, UNHANDLED_VIEW = "baton_not_an_action", "baton_not_a_view"
RARELY = 0.02
CALLBACK_IDS = (
    PACKET_VIEW,
    MARKETING_VIEW,
    NEW_ACCOUNT_VIEW,
    CHECKIN_VIEW,
    CLARIFY_VIEW,
    RATING_VIEW,
    DONE_VIEW,
    FLAG_VIEW,
    RENEWED_VIEW,
    CHURNED_VIEW,
    CHECKLIST_VIEW,
    ASK_MORE_VIEW,
)
SUBCOMMANDS = (
    "owner",
    "week",
    "renewals",
    "pending",
    "cover",
    "assign",
    "history",
    "new",
    "checkin",
    "renewed",
    "churned",
    "status",
    "help",
    "unknown",
)
# What a slash command answers when it did what was asked and wrote it down.
WRITES_WHEN = {
    "renewed": ("Recording the renewal of",),
    "cover": (" covers for ", "Cover for "),
    "assign": ("Done: ",),
}
SUCCESS_REPLIES = ("Snoozed ",)  # a button's answer that reports success, not a refusal
ENTRY_POINTS = (
    "POST /crm/closed-won: body",
    "POST /crm/closed-won: headers",
    "POST /slack/events: signature, envelope",
    "slash command /baton",
    "block_actions",
    "view_submission",
    "view_closed",
    "events",
    "outsider: every action not hers",
)


class InstrumentError(Exception):
    """The run itself could not measure honestly (e.g. a positive control not detected)."""


# --- results -------------------------------------------------------------------------------
@dataclass
class Tally:
    entry: str
    tried: int = 0
    five_xx: int = 0
    tracebacks: int = 0
    rows_on_rejected: int = 0
    wrong_person: int = 0
    slow: int = 0  # answered after Slack's 3 s (not a failure total; Slack shows an error)
    resent: int = 0  # inputs sent again to find whose rows or traceback (not counted again)
    examples: list[str] = field(default_factory=list)

    def note(self, text: str, limit: int = 6) -> None:
        if len(self.examples) < limit:
            self.examples.append(text)

    @property
    def failures(self) -> int:
        return self.five_xx + self.tracebacks + self.rows_on_rejected + self.wrong_person


@dataclass
class Report:
    database: str
    tallies: list[Tally]
    seconds: float = 0.0
    controls: list[str] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        return {
            "inputs tried": sum(t.tried for t in self.tallies),
            "5xx answers": sum(t.five_xx for t in self.tallies),
            "tracebacks in the log": sum(t.tracebacks for t in self.tallies),
            "rows written on rejected input": sum(t.rows_on_rejected for t in self.tallies),
            "wrong-person successes": sum(t.wrong_person for t in self.tallies),
        }

    @property
    def clean(self) -> bool:
        return all(value == 0 for key, value in self.totals().items() if key != "inputs tried")

    def table(self) -> str:
        header = ("entry point", "tried", "5xx", "tracebacks", "rows on rejected", "wrong person")
        header += ("(over 3 s)",)
        rows = [
            (t.entry, t.tried, t.five_xx, t.tracebacks, t.rows_on_rejected, t.wrong_person, t.slow)
            for t in self.tallies
        ]
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
        return "\n".join(lines)

    def render(self) -> str:
        parts = [f"Hostile-input run on {self.database} ({self.seconds:.0f} s)", self.table()]
        examples = [(t.entry, e) for t in self.tallies for e in t.examples]
        if examples:
            parts.append("Examples:")
            parts += [f"- [{entry}] {text}" for entry, text in examples]
        resent = ", ".join(f"{t.entry} {t.resent}" for t in self.tallies if t.resent)
        if resent:
            parts.append(f"Re-sent one by one to attribute rows or tracebacks: {resent}.")
        if self.controls:
            parts.append("Positive controls (the detector sees the right person's effect): ")
            parts[-1] += ", ".join(self.controls)
        totals = ", ".join(f"{key} {value}" for key, value in self.totals().items())
        parts.append(f"TOTALS: {totals}")
        return "\n".join(parts)


# --- what the bot did ------------------------------------------------------------------------
@dataclass
class Answer:
    status: int
    text: str
    seconds: float = 0.0

    @property
    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None


def table_rows(engine: Engine) -> dict[str, set[str]]:
    """Every row of every table of Baton's data, each as a digest of its values."""
    import storage.models  # noqa: F401 (registers the tables)

    found: dict[str, set[str]] = {}
    with engine.connect() as connection:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in NOT_DATA:
                continue
            digests = set()
            for row in connection.execute(select(table)):
                digests.add(hashlib.sha1(repr(tuple(row)).encode()).hexdigest())
            found[table.name] = digests
    return found


def written(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, int]:
    """Table → rows inserted or changed (a changed row is a new digest)."""
    return {
        name: len(after[name] - before.get(name, set()))
        for name in after
        if after[name] - before.get(name, set())
    }


def count_tracebacks(lines: list[str]) -> list[str]:
    """One summary per traceback block in a log: the exception line that ends it."""
    summaries: list[str] = []
    i = 0
    while i < len(lines):
        if TRACEBACK not in lines[i]:
            i += 1
            continue
        chained = any(marker in line for line in lines[max(0, i - 3) : i] for marker in CHAINED)
        j = i + 1
        while j < len(lines) and (lines[j][:1] in (" ", "\t", "|", "+", "") or not lines[j]):
            j += 1
        summary = lines[j].strip() if j < len(lines) else "(end of log)"
        if chained and summaries:
            summaries[-1] = summary  # the block ends with the last exception raised
        else:
            summaries.append(summary)
        i = j
    return summaries


class BotLog:
    """The `baton run` process's stderr, read as it is written (to a file)."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def lines(self) -> list[str]:
        if not self._path.exists():
            return []
        return self._path.read_text(errors="replace").splitlines()


# --- the world: sandbox Slack, a real `baton run`, seeded accounts ------------------------
@dataclass
class Cast:
    ae: User
    csm: User
    am: User
    manager: User
    outsider: User


@dataclass
class Seeds:
    acme: int
    globex: int
    other_team: int
    acme_channel: str
    checkin: int
    milestones: list[int]
    flag_milestone: int | None
    outcome_milestone: int | None

    def known(self) -> set[str]:
        """The seeded ids, as a button carries them."""
        ids = [self.acme, self.globex, self.other_team, self.checkin, *self.milestones]
        return {str(i) for i in ids}


class World:
    def __init__(self, sandbox: SlackSandbox, url: str, engine: Engine, log: BotLog) -> None:
        self.sandbox = sandbox
        self.ws: SandboxWorkspace = sandbox.workspace
        self.url = url
        self.engine = engine
        self.db = Database(engine)
        self.log = log
        self.http = aiohttp.ClientSession(
            trust_env=False, timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
        )
        self.driver = SlackDriver(sandbox, url, SIGNING_SECRET)
        self.cast: Cast
        self.seeds: Seeds
        self.delivered: tuple[bytes, dict[str, str]] = (b"", {})  # a webhook already taken
        self._stamp = 0
        self._tags = 0

    async def close(self) -> None:
        await self.http.close()
        await self.driver.close()

    # --- sending ------------------------------------------------------------------------
    def stamp(self) -> int:
        """A distinct signing time within the 5-minute window for every delivery."""
        self._stamp += 1
        return int(time.time()) - (self._stamp % 240)

    def tag(self) -> str:
        """A channel id unique to one input, so that a reply to its response_url is its own."""
        self._tags += 1
        return f"DTAG{self._tags:07d}"

    def replies_to(self, tag: str) -> list[str]:
        return [
            str(p.body.get("text") or "") for p in self.sandbox.response_posts if p.channel == tag
        ]

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> Answer:
        began = time.monotonic()
        try:
            async with self.http.post(self.url + path, data=body, headers=headers) as resp:
                text = await resp.text(errors="replace")
                return Answer(resp.status, text, time.monotonic() - began)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Answer(599, f"no answer: {type(exc).__name__}: {exc}", time.monotonic() - began)

    async def webhook(self, body: bytes, headers: dict[str, str] | None = None) -> Answer:
        if headers is None:
            headers = signed_headers(WEBHOOK_SECRET, body, self.stamp())
        return await self.post(
            "/crm/closed-won", body, {"Content-Type": "application/json", **headers}
        )

    async def slack(self, body: bytes, content_type: str) -> Answer:
        headers = {"Content-Type": content_type, **sign(SIGNING_SECRET, body, self.stamp())}
        return await self.post("/slack/events", body, headers)

    async def form(self, fields: dict[str, Any]) -> Answer:
        # Lone surrogates go out as the (invalid) UTF-8 bytes a hostile sender would use.
        body = urlencode(fields, errors="surrogatepass").encode()
        return await self.slack(body, "application/x-www-form-urlencoded")

    async def interactive(self, payload: Any) -> Answer:
        return await self.form({"payload": json.dumps(payload)})

    # --- quiet ----------------------------------------------------------------------------
    async def _motion(self) -> tuple[int, ...]:
        from tests.helpers import row_counts

        counts = tuple((await self.db.on_engine(row_counts)).values())
        return (
            *counts,
            len(self.sandbox.calls),
            len(self.sandbox.response_posts),
            len(self.log.lines),
        )

    async def _setup_due(self) -> bool:
        """Whether an account waits for the set-up worker now (the run's one background
        worker: the tick is an hour away): on a loaded machine it can stay untouched for
        longer than QUIET_S, and its rows would land in the next chunk's count."""
        from storage.accounts import next_setup_due

        due = await self.db.run(next_setup_due)
        return due is not None and due <= datetime.now(UTC)

    async def settle(self) -> None:
        """Wait until the bot has finished what it started (after its acks): nothing moves
        in the database, the sandbox or the log for QUIET_S, and no set-up is due (for
        SETTLE_MAX_S at most: a set-up worker that is stuck shows as rows in the next count)."""
        began = last_move = time.monotonic()
        last = await self._motion()
        while True:
            await asyncio.sleep(0.02)
            now = await self._motion()
            if now != last:
                last, last_move = now, time.monotonic()
            elif time.monotonic() - last_move >= QUIET_S and (
                time.monotonic() - began > SETTLE_MAX_S or not await self._setup_due()
            ):
                return

    async def rows(self) -> dict[str, set[str]]:
        return await self.db.on_engine(table_rows)


@contextlib.asynccontextmanager
async def running_world(database_url: str | None, workdir: Path):  # noqa: ANN201
    """The sandbox, a real `baton run` against it, and the seeded workspace."""
    workspace = SandboxWorkspace(bot_scopes=granted_scopes())
    cast = Cast(
        ae=workspace.add_user("ana", "Ana Ruiz", "ana@example.test", "America/New_York"),
        csm=workspace.add_user("chen", "Chen Wei", "chen@example.test", "Europe/London"),
        am=workspace.add_user("omar", "Omar Haddad", "omar@example.test", "Asia/Dubai"),
        manager=workspace.add_user("maya", "Maya Patel", "maya@example.test"),
        outsider=workspace.add_user("mal", "Mallory", "mal@example.test"),
    )
    sandbox = SlackSandbox(workspace)
    await sandbox.start()
    sandbox.limiter.enabled = False  # thousands of requests in minutes: not a rate-limit test
    port = free_port()
    with scratch_database(database_url, workdir) as url:
        env = clean_env(
            SLACK_BOT_TOKEN=workspace.bot_token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=sandbox.api_url,
            DATABASE_URL=url,
            PORT=str(port),
            BATON_WEBHOOK_SECRET=WEBHOOK_SECRET,
            BATON_MARKETING_REQUIRED="false",
            BATON_TICK_SECONDS="3600",  # no tick during the run: rows move only for inputs
        )
        errors = workdir / "baton-run.stderr"
        process = launch(["run"], env, workdir, Path(os.devnull), err=errors)
        engine = make_engine(url)
        world: World | None = None
        try:
            await wait_healthy(f"http://127.0.0.1:{port}", process)
            world = World(sandbox, f"http://127.0.0.1:{port}", engine, BotLog(errors))
            world.cast = cast
            world.seeds = await seed(world, env, workdir)
            await world.settle()
            yield world
        finally:
            if world is not None:
                await world.close()
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), timeout=20)
            if process.returncode is None:
                process.kill()
                await process.wait()
            engine.dispose()
            await sandbox.stop()


def _deal(**overrides: Any) -> dict[str, Any]:
    today = date.today()
    body = {
        "crm_id": "D-ACME",
        "account_name": "Acme Robotics",
        "arr": 80000,
        "contract_start": (today - timedelta(days=265)).isoformat(),
        "renewal_date": (today + timedelta(days=100)).isoformat(),
        "ae_email": "ana@example.test",
        "csm_email": "chen@example.test",
        "am_email": "omar@example.test",
        "manager_email": "maya@example.test",
        "crm_url": "https://crm.example.test/deals/1",
    }
    return body | overrides


async def seed(world: World, env: dict[str, str], workdir: Path) -> Seeds:
    """Acme and Globex (Ana AE, Chen CSM, Omar AM, Maya manager), Acme's packet complete
    and a check-in with a mismatch, milestones planned, and an account of another team."""
    cast, ws = world.cast, world.ws
    accounts = {}
    for crm_id, name in (("D-ACME", "Acme Robotics"), ("D-GLOBEX", "Globex")):
        raw = json.dumps(_deal(crm_id=crm_id, account_name=name)).encode()
        world.delivered = (raw, signed_headers(WEBHOOK_SECRET, raw, world.stamp()))
        answer = await world.webhook(*world.delivered)
        if answer.status != 202:
            raise InstrumentError(f"seeding {name} failed: {answer.status} {answer.text}")
        accounts[crm_id] = answer.json
    acme, channel = accounts["D-ACME"]["account_id"], accounts["D-ACME"]["channel_id"]
    await world.settle()
    # The AE fills the packet (complete: marketing is optional in this run).
    await world.interactive(block_action(world, cast.ae, OPEN_PACKET, str(acme)))
    await until(lambda: bool(ws.views_of(cast.ae.id)), 10)
    (view,) = ws.views_of(cast.ae.id)
    answers = {
        key: "Seeded answer."
        for key in ("goal", "objections", "competitors", "success_metric", "champion")
        + ("economic_buyer", "daily_users", "skeptics", "month6_risks")
    }
    await world.driver.submit(cast.ae, view, answers | {"retention_model": "A"})
    # The CSM logs a check-in with a mismatch.
    await world.driver.command(cast.csm, "checkin acme")
    await until(lambda: bool(ws.views_of(cast.csm.id)), 10)
    (view,) = ws.views_of(cast.csm.id)
    await world.driver.submit(
        cast.csm,
        view,
        {"summary": "Seeded.", "sentiment": "neutral", "mismatch": ["yes"], "promised": "SSO"},
    )
    await world.settle()
    # One tick plans the milestones (the run's own ticker is held off).
    tick = await asyncio.to_thread(launched_run, ["tick"], env, workdir, HANG_AFTER_S)
    if tick.returncode != 0:
        raise InstrumentError(f"baton tick failed: {tick.stderr[-500:]}")
    other = await world.db.run(_other_team_account)
    milestones, checkin = await world.db.run(_ids, acme)
    if checkin is None or not milestones:
        raise InstrumentError("seeding left no check-in or no milestones")
    return Seeds(
        acme=acme,
        globex=accounts["D-GLOBEX"]["account_id"],
        other_team=other,
        acme_channel=channel,
        checkin=checkin,
        milestones=[m.id for m in milestones],
        flag_milestone=next((m.id for m in milestones if m.key == "month-5"), None),
        outcome_milestone=next((m.id for m in milestones if m.key in ("day-30", "day-7")), None),
    )


def _other_team_account(session: Session) -> int:
    from storage.accounts import create_account
    from storage.workspaces import remember_workspace

    now = datetime.now(UTC)
    remember_workspace(session, OTHER_TEAM, "Other Co", "U0OTHERBOT", now)
    account, _ = create_account(
        session,
        {
            "team_id": OTHER_TEAM,
            "crm_id": "D-OTHER",
            "name": "Other Team's Deal",
            "arr": 5000,
            "contract_start": date.today() - timedelta(days=30),
            "renewal_date": date.today() + timedelta(days=335),
            "ae_email": "someone@other.test",
            "csm_email": "else@other.test",
            "closed_at": now,
            "created_at": now,
            "updated_at": now,
        },
    )
    return account.id


def _ids(session: Session, account_id: int) -> tuple[list[Milestone], int | None]:
    milestones = list(session.scalars(select(Milestone).where(Milestone.account_id == account_id)))
    checkin = session.scalars(select(Checkin.id).where(Checkin.account_id == account_id))
    return milestones, checkin.first()


# --- payloads ------------------------------------------------------------------------------
def _user_json(world: World, user_id: Any) -> dict[str, Any]:
    return {"id": user_id, "username": "x", "name": "x", "team_id": world.ws.team_id}


def block_action(
    world: World, user: User | str, action_id: str, value: Any, *, tag: str | None = None
) -> dict[str, Any]:
    user_id = user if isinstance(user, str) else user.id
    dm = world.ws.dm_channel(user_id).id if user_id in world.ws.users else "D0NOWHERE"
    action: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "block_id": "actions",
        "action_ts": f"{time.time():.6f}",
    }
    if value is not _MISSING:
        action["value"] = value
    return {
        "type": "block_actions",
        "user": _user_json(world, user_id),
        "api_app_id": "A0BATON",
        "token": "legacy-unused",
        "team": {"id": world.ws.team_id, "domain": "sandbox"},
        "trigger_id": world.ws.issue_trigger(user_id),
        "actions": [action],
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": dm},
        "channel": {"id": dm, "name": "directmessage"},
        "response_url": world.sandbox.response_url_for(user_id, tag or dm),
    }


def slash(world: World, user: User | str, text: str, *, tag: str, channel: str | None = None):  # noqa: ANN201
    user_id = user if isinstance(user, str) else user.id
    channel = channel or (
        world.ws.dm_channel(user_id).id if user_id in world.ws.users else "D0NOWHERE"
    )
    return {
        "token": "legacy-unused",
        "team_id": world.ws.team_id,
        "team_domain": "sandbox",
        "channel_id": channel,
        "channel_name": "directmessage",
        "user_id": user_id,
        "user_name": "x",
        "command": "/baton",
        "text": text,
        "api_app_id": "A0BATON",
        "response_url": world.sandbox.response_url_for(user_id, tag),
        "trigger_id": world.ws.issue_trigger(user_id),
    }


def view_payload(
    world: World,
    kind: str,
    user: User | str,
    callback_id: str,
    metadata: Any,
    state: Any,
    view_id: str,
) -> dict[str, Any]:
    user_id = user if isinstance(user, str) else user.id
    payload: dict[str, Any] = {
        "type": kind,
        "team": {"id": world.ws.team_id, "domain": "sandbox"},
        "user": _user_json(world, user_id),
        "api_app_id": "A0BATON",
        "token": "legacy-unused",
        "view": {
            "id": view_id,
            "root_view_id": view_id,
            "team_id": world.ws.team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": metadata,
            "hash": "1.x",
            "blocks": [],
            "state": {"values": state},
        },
    }
    if kind == "view_submission":
        payload["trigger_id"] = world.ws.issue_trigger(user_id)
        payload["response_urls"] = []
    else:
        payload["is_cleared"] = False
    return payload


_MISSING = object()


# --- the generator ---------------------------------------------------------------------------
class Gen:
    """Hostile values from a seeded generator: the same run every time for one seed."""

    def __init__(self, seed: int, entry: str, world: World) -> None:
        self.r = random.Random(seed * 1_000_003 + zlib.crc32(entry.encode()))
        self.world = world

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def pick(self, items: Any) -> Any:
        return self.r.choice(list(items))

    def unicode(self, size: int = 12) -> str:
        pools = ((0, 0x7F), (0x80, 0x2FFF), (0xD800, 0xDFFF), (0x1F300, 0x1FAFF), (0, 0x10FFFF))
        low, high = self.pick(pools)
        return "".join(chr(self.r.randint(low, high)) for _ in range(self.r.randint(0, size)))

    def text(self) -> str:
        roll = self.r.random()
        if roll < 0.45:
            return self.pick(NASTY_STRINGS)
        if roll < 0.7:
            return self.unicode()
        return " ".join(self.word() for _ in range(self.r.randint(1, 5)))

    def word(self) -> str:
        cast, seeds = self.world.cast, self.world.seeds
        return self.pick(
            [
                self.pick(NASTY_STRINGS),
                self.unicode(6),
                "acme",
                "Acme Robotics",
                "globex",
                "D-ACME",
                f"<#{seeds.acme_channel}|acct-acme-robotics>",
                f"<@{self.pick([cast.ae, cast.csm, cast.am, cast.manager, cast.outsider]).id}>",
                f"<@{GHOST}|ghost>",
                "with",
                "until",
                "on",
                "off",
                "ae",
                "csm",
                "am",
                (date.today() + timedelta(days=self.r.randint(-400, 800))).isoformat(),
                str(self.r.randint(-10, 10**6)),
                "120k",
                "$1,000,000.99",
            ]
        )

    def json(self, depth: int = 3) -> Any:
        roll = self.r.random()
        if depth <= 0 or roll < 0.5:
            return self.pick(
                [
                    None,
                    True,
                    False,
                    self.r.randint(-(2**70), 2**70),
                    self.pick(IDS),
                    float(f"{self.r.random():.6f}e{self.r.randint(-5, 400)}"),  # inf beyond 1e308
                    self.text(),
                ]
            )
        if roll < 0.75:
            return [self.json(depth - 1) for _ in range(self.r.randint(0, 3))]
        return {self.unicode(5): self.json(depth - 1) for _ in range(self.r.randint(0, 3))}

    def user(self, outsider_weight: float = 0.25) -> User | str:
        cast = self.world.cast
        if self.chance(outsider_weight):
            return cast.outsider
        if self.chance(0.05):
            return self.pick([GHOST, "", "W0000000", self.text()])
        return self.pick([cast.ae, cast.csm, cast.am, cast.manager])

    def an_id(self) -> Any:
        seeds = self.world.seeds
        known = [seeds.acme, seeds.globex, seeds.other_team, seeds.checkin, *seeds.milestones]
        roll = self.r.random()
        if roll < 0.5:
            return str(self.pick(known))
        if roll < 0.8:
            return self.pick(IDS)
        return self.text()


def dumps(value: Any) -> str:
    return json.dumps(value)  # NaN, Infinity and lone surrogates as Python writes them


DEEP = b"[" * 10_000 + b"]" * 10_000
RAW_BODIES = (
    b"",
    b"null",
    b"[]",
    b"{}",
    b'{"crm_id": ',
    b"\xff\xfe\x00\x00",
    b"\xef\xbb\xbf{}",
    b'{"crm_id": "\xc3\x28"}',
    DEEP,
    b'{"a":' * 5000 + b"1" + b"}" * 5000,
    b"NaN",
    b"1e400",
    b"9" * 5000,
    b'"' + b"x" * 1_000_000 + b'"',
    b"x" * (1024 * 1024 + 1),
    b'{"crm_id": "\\ud800", "account_name": "\\u0000"}',
)


# --- the inputs of each entry point ----------------------------------------------------------
@dataclass
class Input:
    label: str
    send: Callable[[], Awaitable[Answer]]
    accepted: Callable[[Answer], bool]
    # Resolves once a refused input has been answered in full (default: its HTTP answer).
    answered: Callable[[Answer], Awaitable[None]] | None = None
    likely_accepted: bool = False  # chunks are formed by this guess, so few are mixed


def _rejected_status(answer: Answer) -> bool:
    return 400 <= answer.status < 500


def body_inputs(world: World, gen: Gen, n: int) -> Iterator[Input]:
    keys = list(_deal())
    keys += ["term_months", "segment", "currency", "updated_at", "champion_email", "team_id"]
    for i in range(n):
        if i % 8 == 0:
            raw = gen.pick(RAW_BODIES)
            label = f"raw body {raw[:40]!r}… ({len(raw)} bytes)"
        elif i % 8 == 1:
            value = gen.json()
            raw = dumps(value).encode()
            label = f"JSON {raw[:80]!r}"
        else:
            body: dict[str, Any] = _deal(crm_id=f"H-{i}", account_name=f"Hostile {i}")
            changed = {}
            for key in gen.r.sample(keys, gen.r.randint(1, 3)):
                changed[key] = gen.pick(
                    [gen.text(), gen.json(1), gen.pick(NASTY_STRINGS), gen.pick(IDS)]
                )
                if key == "team_id" and gen.chance(0.5):
                    changed[key] = gen.pick([OTHER_TEAM, "T0NOWHERE", world.ws.team_id])
            body |= changed
            raw = dumps(body).encode()
            label = f"deal with {_short(changed)}"
        yield Input(
            label,
            lambda raw=raw: world.webhook(raw),
            lambda a: 200 <= a.status < 300,
            likely_accepted=_parses(raw),
        )


def _parses(raw: bytes) -> bool:
    """Whether the webhook should take this body (a guess, to keep chunks unmixed)."""
    from flows.intake import ClosedWon, parse_closed_won

    try:
        body = json.loads(raw)
        return isinstance(parse_closed_won(body, date.today()), ClosedWon) and body.get(
            "team_id"
        ) in (None, "", OTHER_TEAM, "T0SANDBOX")
    except Exception:
        return False


def header_inputs(world: World, gen: Gen, n: int) -> Iterator[Input]:
    for i in range(n):
        raw = dumps(_deal(crm_id=f"S-{i}", account_name=f"Signed {i}")).encode()
        now = int(time.time())
        good = signed_headers(WEBHOOK_SECRET, raw, now)
        ts, sig = good["X-Baton-Timestamp"], good["X-Baton-Signature"]
        variants = {
            "no headers": {},
            "no signature": {"X-Baton-Timestamp": ts},
            "no timestamp": {"X-Baton-Signature": sig},
            "wrong secret": signed_headers("not-the-secret", raw, now),
            "another body's signature": signed_headers(WEBHOOK_SECRET, raw + b" ", now),
            "stale timestamp": signed_headers(WEBHOOK_SECRET, raw, now - 301),
            "future timestamp": signed_headers(WEBHOOK_SECRET, raw, now + 301),
            "timestamp text": {"X-Baton-Timestamp": "abc", "X-Baton-Signature": sig},
            "timestamp 5000 digits": {"X-Baton-Timestamp": "9" * 5000, "X-Baton-Signature": sig},
            "timestamp -1": {"X-Baton-Timestamp": "-1", "X-Baton-Signature": sig},
            "timestamp float": {"X-Baton-Timestamp": f"{now}.5", "X-Baton-Signature": sig},
            "timestamp ²": {"X-Baton-Timestamp": "²", "X-Baton-Signature": sig},
            "signature v1=": {"X-Baton-Timestamp": ts, "X-Baton-Signature": "v1" + sig[2:]},
            "signature upper-case": {"X-Baton-Timestamp": ts, "X-Baton-Signature": sig.upper()},
            "signature empty": {"X-Baton-Timestamp": ts, "X-Baton-Signature": ""},
            "signature 10k": {"X-Baton-Timestamp": ts, "X-Baton-Signature": "v0=" + "a" * 10_000},
            "signature é": {"X-Baton-Timestamp": ts, "X-Baton-Signature": "v0=é"},
            "Slack's header names": sign(WEBHOOK_SECRET, raw, now),
        }
        name = gen.pick(variants)
        headers = variants[name]
        if i % 50 == 0:  # a replay of a delivery Baton already took
            yield Input(
                "a replayed signature",
                lambda: world.webhook(*world.delivered),
                lambda a: 200 <= a.status < 300,
            )
            continue
        yield Input(
            f"headers: {name}",
            lambda raw=raw, headers=headers: world.webhook(raw, headers),
            lambda a: 200 <= a.status < 300,
        )


def envelope_inputs(world: World, gen: Gen, n: int) -> Iterator[Input]:
    cast = world.cast
    for i in range(n):
        kind = i % 4
        if kind == 0:  # signatures
            body = urlencode(slash(world, cast.manager, "help", tag=world.tag())).encode()
            now = int(time.time())
            variants = {
                "unsigned": {},
                "wrong secret": sign("forged", body, now),
                "stale": sign(SIGNING_SECRET, body, now - 301),
                "timestamp text": {
                    **sign(SIGNING_SECRET, body, now),
                    "X-Slack-Request-Timestamp": "x",
                },
                "timestamp 5000 digits": {
                    **sign(SIGNING_SECRET, body, now),
                    "X-Slack-Request-Timestamp": "9" * 5000,
                },
                "signature garbage": {
                    "X-Slack-Request-Timestamp": str(now),
                    "X-Slack-Signature": gen.pick(["v0=", "x", "v0=" + "0" * 64, "é"]),
                },
            }
            name = gen.pick(variants)
            headers = {"Content-Type": "application/x-www-form-urlencoded", **variants[name]}
            yield Input(
                f"signature: {name}",
                lambda body=body, headers=headers: world.post("/slack/events", body, headers),
                lambda a: False,
            )
            continue
        if kind == 1:  # signed, but not a body Slack sends
            raw = gen.pick(RAW_BODIES)
            content_type = gen.pick(
                ["application/json", "application/x-www-form-urlencoded", "text/plain", ""]
            )
            yield Input(
                f"signed {content_type or 'no content type'} body {raw[:30]!r}",
                lambda raw=raw, ct=content_type: world.slack(raw, ct),
                lambda a: False,
            )
            continue
        envelope = gen.pick(
            [
                {"type": "event_callback"},
                {"type": "event_callback", "event": gen.json(1)},
                {"type": "event_callback", "team_id": gen.json(0), "event": {"type": gen.text()}},
                {"type": "event_callback", "event": {"type": "app_home_opened"}},
                {"type": "event_callback", "event": {"type": "user_change", "user": gen.json(1)}},
                {"type": "block_actions"},
                {"type": "block_actions", "actions": gen.json(1), "team": gen.json(1)},
                {"type": "block_actions", "actions": [], "team": {"id": world.ws.team_id}},
                {"type": "view_submission", "view": gen.json(1)},
                {"type": "view_closed", "view": {"callback_id": PACKET_VIEW}},
                {"type": "shortcut", "callback_id": gen.text()},
                {"type": gen.text()},
                gen.json(2),
            ]
        )
        if kind == 2:
            raw = dumps(envelope).encode()
            yield Input(
                f"JSON envelope {raw[:80]!r}",
                lambda raw=raw: world.slack(raw, "application/json"),
                lambda a: False,
            )
        else:
            fields = gen.pick(
                [
                    {"payload": dumps(envelope)},
                    {"payload": gen.text()},
                    {"command": "/baton", "text": "help"},
                    {"command": "/baton", "user_id": cast.manager.id},
                    {"command": gen.text(), "team_id": world.ws.team_id, "user_id": gen.text()},
                    {gen.text(): gen.text()},
                    {"ssl_check": "1"},
                ]
            )
            yield Input(
                f"form {_short(fields)}", lambda fields=fields: world.form(fields), lambda a: False
            )


def slash_inputs(world: World, gen: Gen, n: int) -> Iterator[Input]:
    cast, seeds = world.cast, world.seeds
    for i in range(n):
        sub = SUBCOMMANDS[i % len(SUBCOMMANDS)]
        words = [gen.word() for _ in range(gen.r.randint(0, 5))]
        if gen.chance(0.3):
            words.insert(gen.r.randint(0, len(words)), gen.text())
        # Every nasty reaches every subcommand: one per round, at a random place.
        nasty = NASTY_STRINGS[(i // len(SUBCOMMANDS)) % len(NASTY_STRINGS)]
        words = [nasty] if gen.chance(0.3) else [*words, nasty]
        gen.r.shuffle(words)
        name = gen.text().replace(" ", "") or "x" if sub == "unknown" else sub
        typed = " ".join([name, *words])
        text = as_slack_sends(typed) if gen.chance(0.85) else typed
        user = gen.user()
        channel = seeds.acme_channel if gen.chance(0.3) else None
        tag = world.tag()

        def accepted(answer: Answer, sub: str = sub) -> bool:
            reply = (answer.json or {}).get("text", "") if answer.status == 200 else ""
            return any(marker in str(reply) for marker in WRITES_WHEN.get(sub, ()))

        yield Input(
            f"/baton {typed[:100]!r} by {_who(world, user)}",
            lambda user=user, text=text, tag=tag, channel=channel: world.form(
                slash(world, user, text, tag=tag, channel=channel)
            ),
            accepted,
            likely_accepted=sub in WRITES_WHEN and user != cast.outsider,
        )


def action_inputs(world: World, gen: Gen, n: int) -> Iterator[Input]:
    for i in range(n):
        action_id = UNHANDLED_ACTION if gen.chance(RARELY) else ACTION_IDS[i % len(ACTION_IDS)]
        user = gen.user()
        value = _MISSING if gen.chance(0.05) else gen.an_id()
        if gen.chance(0.05):
            value = gen.json(1)
        tag = world.tag()
        team = gen.pick([OTHER_TEAM, "", None, 7]) if gen.chance(0.05) else None

        def send(action_id=action_id, user=user, value=value, tag=tag, team=team):  # noqa: ANN001, ANN202
            payload = block_action(world, user, action_id, value, tag=tag)
            if team is not None:
                payload["team"] = {"id": team}
            if action_id.startswith(PAGE_ACTION):
                payload["container"] = {"type": "view", "view_id": "VHOME"}
            return world.interactive(payload)

        def accepted(answer: Answer, tag: str = tag) -> bool:
            if _rejected_status(answer):
                return False
            replies = world.replies_to(tag)
            return not replies or any(r.startswith(SUCCESS_REPLIES) for r in replies)

        async def answered(answer: Answer, tag: str = tag) -> None:
            if answer.status != 200:
                return  # refused at the door: no reply follows
            with contextlib.suppress(AssertionError):
                await until(lambda: bool(world.replies_to(tag)), SLACK_TIMEOUT_S)

        shown = "(no value)" if value is _MISSING else repr(value)[:60]
        yield Input(
            f"{action_id} value={shown} by {_who(world, user)}",
            send,
            accepted,
            answered,
            likely_accepted=isinstance(user, User)
            and user != world.cast.outsider
            and isinstance(value, str)
            and value in world.seeds.known(),
        )


def _state_for(gen: Gen, callback_id: str) -> Any:
    """A state that passes the modal's own checks, then some of it made hostile."""
    cast = gen.world.cast

    def text(value: Any) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "plain_text_input", "value": value}}

    def option(value: Any) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "static_select", "selected_option": {"value": value}}}

    def day(value: Any) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "datepicker", "selected_date": value}}

    def person(value: Any) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "users_select", "selected_user": value}}

    today = date.today()
    base: dict[str, Any] = {
        PACKET_VIEW: {
            **{k: text("Answer.") for k in ("goal", "objections", "competitors")},
            **{k: text("Answer.") for k in ("success_metric", "champion", "economic_buyer")},
            **{k: text("Answer.") for k in ("daily_users", "skeptics", "month6_risks")},
            "retention_model": option("A"),
        },
        MARKETING_VIEW: {"marketing": text("Webinar.")},
        NEW_ACCOUNT_VIEW: {
            "account_name": text(f"New {gen.r.randint(0, 10**9)}"),
            "crm_id": text(f"N-{gen.r.randint(0, 10**9)}"),
            "arr": {FIELD_ACTION: {"type": "number_input", "value": "1000"}},
            "ae": person(cast.ae.id),
            "csm": person(cast.csm.id),
        },
        CHECKIN_VIEW: {
            "checkin_date": day(today.isoformat()),
            "summary": text("Fine."),
            "sentiment": option("neutral"),
        },
        CLARIFY_VIEW: {"clarification": text("Agreed.")},
        RATING_VIEW: {"rating": option("4")},
        DONE_VIEW: {"outcome": text("Done.")},
        CHECKLIST_VIEW: {"checklist": {"type": "checkboxes", "selected_options": [{"value": "1"}]}},
        ASK_MORE_VIEW: {"ask": text("More, please.")},
        FLAG_VIEW: {"health": option("green")},
        RENEWED_VIEW: {"new_date": day((today + timedelta(days=500)).isoformat())},
        CHURNED_VIEW: {"reason": option("economic"), "effective": day(today.isoformat())},
    }.get(callback_id, {})
    state = json.loads(json.dumps(base))
    extra = [
        "summary", "promised", "next_steps", "arr", "contract_start", "renewal_date", "am",
        "manager", "champion_email", "crm_url", "risks", "expansion", "missing", "comment",
        "new_arr", "note", "icp_exception", "icp_reason", "mismatch", "first_value",
    ]  # fmt: skip
    for _ in range(gen.r.randint(0, 3)):
        block = gen.pick([*state, *extra]) if state else gen.pick(extra)
        shape = gen.r.random()
        if shape < 0.5:
            state[block] = gen.pick([text, option, day, person])(gen.text())
        elif shape < 0.7:
            state[block] = gen.pick([text, option, day, person])(gen.json(1))
        elif shape < 0.85:
            state[block] = gen.json(1)
        else:
            state.pop(block, None)
    if gen.chance(0.03):
        return gen.json(2)
    return state


def _metadata(gen: Gen, callback_id: str) -> Any:
    seeds = gen.world.seeds
    keys = {
        CHECKIN_VIEW: ["account_id", "checkin_id"],
        CLARIFY_VIEW: ["checkin_id"],
        DONE_VIEW: ["milestone_id"],
        CHECKLIST_VIEW: ["milestone_id"],
        ASK_MORE_VIEW: ["milestone_id"],
        FLAG_VIEW: ["milestone_id"],
        RENEWED_VIEW: ["account_id", "cycle"],
    }.get(callback_id, ["account_id"])
    roll = gen.r.random()
    if roll < 0.6:
        meta = {key: gen.an_id() if key != "cycle" else gen.text() for key in keys}
        if "account_id" in meta and gen.chance(0.4):
            meta["account_id"] = gen.pick([seeds.acme, seeds.globex, seeds.other_team])
        return dumps(meta)
    if roll < 0.9:
        return gen.pick(["", "[]", "0", "null", "1e400", "NaN", '"x"', DEEP.decode(), gen.text()])
    return gen.json(1)


def view_inputs(world: World, gen: Gen, n: int, kind: str) -> Iterator[Input]:
    callbacks = CALLBACK_IDS if kind == "view_submission" else (PACKET_VIEW, MARKETING_VIEW)  # fmt: skip
    for i in range(n):
        callback_id = callbacks[i % len(callbacks)]
        if gen.chance(RARELY):  # a modal no listener knows (or a close nobody asked for)
            callback_id = UNHANDLED_VIEW if kind == "view_submission" else CHECKIN_VIEW
        user = gen.user()
        metadata, state = _metadata(gen, callback_id), _state_for(gen, callback_id)
        view_id = f"VH{i:06d}{kind[5]}"

        def send(
            user=user, callback_id=callback_id, metadata=metadata, state=state, view_id=view_id
        ):  # noqa: ANN001, ANN202
            return world.interactive(
                view_payload(world, kind, user, callback_id, metadata, state, view_id)
            )

        def accepted(answer: Answer) -> bool:
            if answer.status != 200:
                return False
            body = answer.json if answer.text.strip().startswith("{") else None
            return (body or {}).get("response_action") != "errors"

        yield Input(
            f"{callback_id} metadata={str(metadata)[:60]!r} state={_short(state)} "
            f"by {_who(world, user)}",
            send,
            accepted,
            likely_accepted=kind == "view_closed"
            or (
                isinstance(user, User)
                and user != world.cast.outsider
                and isinstance(metadata, str)
                and any(
                    f'": "{i}"' in metadata or f": {i}" in metadata for i in world.seeds.known()
                )
            ),
        )


def event_inputs(world: World, gen: Gen, n: int) -> Iterator[Input]:
    cast, seeds = world.cast, world.seeds
    kinds = (
        "user_change",
        "app_home_opened",
        "member_joined_channel",
        "channel_shared",
        "channel_unshared",
        "reaction_added",
    )
    for i in range(n):
        kind = kinds[i % len(kinds)]
        someone = gen.pick([cast.ae.id, cast.outsider.id, GHOST, gen.text(), gen.json(0)])
        channel = gen.pick([gen.text(), gen.json(0), "C0NOWHERE", seeds.acme_channel])
        if kind == "channel_shared" and channel == seeds.acme_channel and not gen.chance(0.1):
            channel = "C0NOWHERE"  # sharing Acme's channel is a fact Baton acts on, rarely
        event: dict[str, Any] = {"type": kind}
        if kind == "user_change":
            event["user"] = gen.pick(
                [
                    {
                        "id": someone,
                        "tz": gen.text(),
                        "profile": gen.json(1),
                        "deleted": gen.json(0),
                    },
                    {"id": someone},
                    someone,
                    {"id": cast.csm.id, "tz": gen.pick(["Mars/Olympus", "", "UTC", gen.text()])},
                ]
            )
        elif kind == "app_home_opened":
            event |= {"user": someone, "tab": gen.pick(["home", "messages", gen.text()])}
        elif kind in ("member_joined_channel", "channel_shared", "channel_unshared"):
            event |= {
                "user": someone,
                "channel": channel,
                "team": gen.pick([world.ws.team_id, OTHER_TEAM, gen.json(0)]),
                "is_ext_shared": gen.json(0),
            }
        else:
            event |= {"user": someone, "item": gen.json(1)}
        if gen.chance(0.1):
            event.pop(gen.pick(list(event)), None)
        body = {
            "token": "legacy-unused",
            "team_id": world.ws.team_id if not gen.chance(0.05) else gen.json(0),
            "api_app_id": "A0BATON",
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
        }
        raw = dumps(body).encode()
        yield Input(
            f"{kind} {_short(event)}",
            lambda raw=raw: world.slack(raw, "application/json"),
            lambda a: not _rejected_status(a),  # events are facts Slack reports
            likely_accepted=True,
        )


GENERATORS: dict[str, Callable[[World, Gen, int], Iterator[Input]]] = {
    ENTRY_POINTS[0]: body_inputs,
    ENTRY_POINTS[1]: header_inputs,
    ENTRY_POINTS[2]: envelope_inputs,
    ENTRY_POINTS[3]: slash_inputs,
    ENTRY_POINTS[4]: action_inputs,
    ENTRY_POINTS[5]: lambda w, g, n: view_inputs(w, g, n, "view_submission"),
    ENTRY_POINTS[6]: lambda w, g, n: view_inputs(w, g, n, "view_closed"),
    ENTRY_POINTS[7]: event_inputs,
}


def _short(value: Any, limit: int = 90) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _who(world: World, user: User | str) -> str:
    if isinstance(user, User):
        return user.name
    return repr(user)[:20]


# --- running one entry point -------------------------------------------------------------
async def run_entry(world: World, tally: Tally, inputs: list[Input]) -> None:
    """Send the inputs in chunks (IN_FLIGHT at a time), the likely-accepted ones apart
    from the rest; after each chunk, wait for quiet and compare every table."""
    limit = asyncio.Semaphore(IN_FLIGHT)
    traced = 0

    async def one(item: Input) -> Answer:
        async with limit:
            return await item.send()

    ordered = [i for i in inputs if not i.likely_accepted] + [
        i for i in inputs if i.likely_accepted
    ]
    for start in range(0, len(ordered), CHUNK):
        chunk = ordered[start : start + CHUNK]
        before, log_at = await world.rows(), len(world.log.lines)
        answers = await asyncio.gather(*(one(item) for item in chunk))
        await world.settle()
        diff = written(before, await world.rows())
        tally.tried += len(chunk)
        for item, answer in zip(chunk, answers, strict=True):
            if answer.status >= 500:
                tally.five_xx += 1
                tally.note(f"{answer.status} for {item.label}: {answer.text[:120]!r}")
            if answer.seconds > SLACK_TIMEOUT_S:
                tally.slow += 1
                if tally.slow <= 2:
                    tally.note(f"{answer.status} after {answer.seconds:.1f} s for {item.label}")
        tracebacks = count_tracebacks(world.log.lines[log_at:])
        tally.tracebacks += len(tracebacks)
        verdicts = [item.accepted(answer) for item, answer in zip(chunk, answers, strict=True)]
        rejected = [item for item, ok in zip(chunk, verdicts, strict=True) if not ok]
        if diff and not any(verdicts):
            tally.rows_on_rejected += sum(diff.values())
            tally.note(
                f"rows {diff} written by a chunk of refused inputs, e.g. {rejected[0].label}"
            )
        elif diff and rejected:  # mixed: only a one-by-one re-send can say whose rows
            await _attribute(world, tally, rejected)
        if tracebacks and traced < 3:
            traced += 1
            await _find_tracebacks(world, tally, chunk, tracebacks)


async def _attribute(world: World, tally: Tally, items: list[Input]) -> None:
    """Send the refused inputs of a mixed chunk again, without the accepted ones; if they
    write, halve them until each input that writes while refused is found. (A second
    delivery may find its first one's rows there already: this can undercount, never
    overcount.)"""
    before = await world.rows()
    tally.resent += len(items)
    answers = await asyncio.gather(*(item.send() for item in items))
    await asyncio.gather(
        *(i.answered(a) for i, a in zip(items, answers, strict=True) if i.answered is not None)
    )
    await world.settle()
    diff = written(before, await world.rows())
    refused = [i for i, a in zip(items, answers, strict=True) if not i.accepted(a)]
    if not diff or not refused:
        return
    if len(items) == 1:
        tally.rows_on_rejected += sum(diff.values())
        tally.note(f"rows {diff} written while refusing {items[0].label} ({answers[0].status})")
        return
    half = len(refused) // 2
    for part in (refused[:half], refused[half:]):
        if part:
            await _attribute(world, tally, part)


async def _find_tracebacks(
    world: World, tally: Tally, items: list[Input], found: list[str]
) -> None:
    """Which input of a chunk leaves a traceback: halves of it sent again until one input
    is left (a re-send is diagnosis: its tracebacks are not counted again)."""
    suspects = items
    while len(suspects) > 1:
        half = suspects[: len(suspects) // 2]
        tally.resent += len(half)
        log_at = len(world.log.lines)
        await asyncio.gather(*(item.send() for item in half))
        await world.settle()
        suspects = half if count_tracebacks(world.log.lines[log_at:]) else suspects[len(half) :]
    log_at = len(world.log.lines)
    await suspects[0].send()
    await world.settle()
    if again := count_tracebacks(world.log.lines[log_at:]):
        tally.note(f"traceback {again[-1][:150]!r} after {suspects[0].label}")
    else:
        tally.note(f"traceback (not repeated when re-sent): {found[0][:150]}")


# --- the outsider --------------------------------------------------------------------------
@dataclass
class Attempt:
    action: Action
    how: str
    act: Callable[[User], Awaitable[Any]]


def attempts(world: World) -> list[Attempt]:
    """Every way to try each action the outsider may not take (RULES, for a plain member)."""
    seeds, cast = world.seeds, world.cast
    today = date.today()
    acme, checkin = seeds.acme, seeds.checkin
    milestone = seeds.milestones[0]

    def click(action_id: str, value: Any) -> Callable[[User], Awaitable[Any]]:
        return lambda user: world.interactive(block_action(world, user, action_id, str(value)))

    def command(text: str) -> Callable[[User], Awaitable[Any]]:
        return lambda user: world.form(slash(world, user, as_slack_sends(text), tag=world.tag()))

    def submit(callback_id: str, metadata: dict[str, Any], state: dict[str, Any]):  # noqa: ANN202
        def act(user: User) -> Awaitable[Any]:
            view_id = "VW" + secrets.token_hex(4).upper()
            payload = view_payload(
                world, "view_submission", user, callback_id, json.dumps(metadata), state, view_id
            )
            return world.interactive(payload)

        return act

    def text(value: str) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "plain_text_input", "value": value}}

    def option(value: str) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "static_select", "selected_option": {"value": value}}}

    def day(value: date) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "datepicker", "selected_date": value.isoformat()}}

    def person(value: str) -> dict[str, Any]:
        return {FIELD_ACTION: {"type": "users_select", "selected_user": value}}

    packet_state = {
        **{k: text("Taken over.") for k in ("goal", "objections", "competitors", "champion")},
        **{k: text("Taken over.") for k in ("success_metric", "economic_buyer", "daily_users")},
        **{k: text("Taken over.") for k in ("skeptics", "month6_risks")},
        "retention_model": option("B"),
    }
    checkin_state = {
        "checkin_date": day(today),
        "summary": text("Not mine to log."),
        "sentiment": option("concerned"),
    }
    a = Action
    found = [
        Attempt(a.CREATE_ACCOUNT, "/baton new", command("new")),
        Attempt(
            a.CREATE_ACCOUNT,
            "a crafted /baton new submission",
            submit(
                NEW_ACCOUNT_VIEW,
                {},
                {
                    "account_name": text("Mallory's Deal"),
                    "crm_id": text("D-MAL"),
                    "arr": {FIELD_ACTION: {"type": "number_input", "value": "1"}},
                    "ae": person(cast.outsider.id),
                    "csm": person(cast.csm.id),
                },
            ),
        ),
        Attempt(
            a.CHANGE_ACCOUNT,
            "a crafted /baton new submission with Acme's CRM id",
            submit(
                NEW_ACCOUNT_VIEW,
                {},
                {
                    "account_name": text("Acme Robotics"),
                    "crm_id": text("D-ACME"),
                    "arr": {FIELD_ACTION: {"type": "number_input", "value": "1"}},
                    "ae": person(cast.outsider.id),
                    "csm": person(cast.outsider.id),
                },
            ),
        ),
        Attempt(a.FILL_PACKET, "Fill the handoff packet", click(OPEN_PACKET, acme)),
        Attempt(
            a.FILL_PACKET,
            "a crafted packet submission",
            submit(PACKET_VIEW, {"account_id": acme}, packet_state),
        ),
        Attempt(a.ACKNOWLEDGE_PACKET, "Acknowledge", click(ACKNOWLEDGE, acme)),
        Attempt(a.ACKNOWLEDGE_PACKET, "I have questions", click(QUESTIONS, acme)),
        Attempt(a.LOG_KICKOFF, "Kickoff held", click(KICKOFF_HELD, acme)),
        Attempt(a.LOG_CHECKIN, "/baton checkin acme", command("checkin acme")),
        Attempt(a.LOG_CHECKIN, "Log check-in", click(CHECKIN_OPEN, acme)),
        Attempt(
            a.LOG_CHECKIN,
            "a crafted check-in submission",
            submit(CHECKIN_VIEW, {"account_id": acme, "checkin_id": None}, checkin_state),
        ),
        Attempt(a.EDIT_CHECKIN, "Edit check-in", click(CHECKIN_EDIT, checkin)),
        Attempt(
            a.EDIT_CHECKIN,
            "a crafted check-in edit",
            submit(CHECKIN_VIEW, {"account_id": acme, "checkin_id": checkin}, checkin_state),
        ),
        Attempt(a.CLARIFY, "Clarify", click(CLARIFY_OPEN, checkin)),
        Attempt(
            a.CLARIFY,
            "a crafted clarification",
            submit(CLARIFY_VIEW, {"checkin_id": checkin}, {"clarification": text("Nothing.")}),
        ),
        Attempt(a.RATE_PACKET, "Rate the packet", click(RATE_OPEN, acme)),
        Attempt(
            a.RATE_PACKET,
            "a crafted rating",
            submit(RATING_VIEW, {"account_id": acme}, {"rating": option("1")}),
        ),
        Attempt(a.MILESTONE, "Done", click(DONE, milestone)),
        *(
            Attempt(a.MILESTONE, f"Snooze {d}", click(f"{SNOOZE}_{d}", milestone))
            for d in SNOOZE_DAYS
        ),
        Attempt(a.MILESTONE, "Need help", click(HELP, milestone)),
        Attempt(a.MILESTONE, "Flag health", click(FLAG, seeds.flag_milestone or milestone)),
        Attempt(
            a.MILESTONE,
            "a crafted Done submission",
            submit(DONE_VIEW, {"milestone_id": milestone}, {"outcome": text("Done by me.")}),
        ),
        Attempt(
            a.MILESTONE,
            "a crafted health flag",
            submit(
                FLAG_VIEW,
                {"milestone_id": seeds.flag_milestone or milestone},
                {"health": option("red"), "risks": text("Mine now.")},
            ),
        ),
        Attempt(a.RECORD_OUTCOME, "/baton renewed acme", command("renewed acme")),
        Attempt(a.RECORD_OUTCOME, "/baton churned acme", command("churned acme")),
        Attempt(a.RECORD_OUTCOME, "Renewed", click(RENEWED, acme)),
        Attempt(a.RECORD_OUTCOME, "Churned", click(CHURNED, acme)),
        Attempt(a.RECORD_OUTCOME, "Hand-back call held", click(HANDBACK_HELD, acme)),
        Attempt(
            a.RECORD_OUTCOME,
            "a crafted renewal",
            submit(
                RENEWED_VIEW,
                {"account_id": acme, "cycle": "any"},
                {"new_date": day(today + timedelta(days=700))},
            ),
        ),
        Attempt(
            a.RECORD_OUTCOME,
            "a crafted churn",
            submit(
                CHURNED_VIEW,
                {"account_id": acme},
                {"reason": option("economic"), "effective": day(today)},
            ),
        ),
        Attempt(
            a.COVER_OTHER,
            "/baton cover @ana with @mal",
            command(
                f"cover <@{cast.ae.id}> with <@{cast.outsider.id}> until "
                f"{(today + timedelta(days=10)).isoformat()}"
            ),
        ),
        Attempt(a.COVER_OTHER, "/baton cover @ana off", command(f"cover <@{cast.ae.id}> off")),
        Attempt(
            a.ASSIGN, "/baton assign acme ae @mal", command(f"assign acme ae <@{cast.outsider.id}>")
        ),
        Attempt(a.STATUS, "/baton status", command("status")),
    ]
    # Another team's account, named by id from this workspace, is nobody's here.
    other = seeds.other_team
    for action_id, action in ((OPEN_PACKET, a.FILL_PACKET), (KICKOFF_HELD, a.LOG_KICKOFF)):
        found.append(
            Attempt(action, f"{action_id} on another team's account", click(action_id, other))
        )
    found.append(
        Attempt(
            a.RECORD_OUTCOME,
            "a crafted churn of another team's account",
            submit(
                CHURNED_VIEW,
                {"account_id": other},
                {"reason": option("economic"), "effective": day(today)},
            ),
        )
    )
    # The outsider holds no role on any account: every action not open to anyone is refused.
    return [t for t in found if Role.ANYONE not in RULES[t.action]]


@dataclass
class Effects:
    rows: dict[str, set[str]]
    views: int
    messages: int


async def effects(world: World, user: User) -> Effects:
    ws = world.ws
    own_dm = ws.dm_channel(user.id).id
    messages = sum(len(c.messages) for c in ws.channels.values() if c.id != own_dm)
    return Effects(await world.rows(), len(ws.views_of(user.id)), messages)


def what_changed(before: Effects, after: Effects) -> list[str]:
    found = []
    if diff := written(before.rows, after.rows):
        found.append(f"rows {diff}")
    if after.views > before.views:
        found.append("a modal opened for them")
    if after.messages > before.messages:
        found.append(f"{after.messages - before.messages} message(s) posted")
    return found


async def run_outsider(world: World, tally: Tally) -> list[str]:
    """Every attempt by the outsider; then positive controls by the right people."""
    outsider = world.cast.outsider
    for attempt in attempts(world):
        before, log_at = await effects(world, outsider), len(world.log.lines)
        answer = await attempt.act(outsider)
        await world.settle()
        changed = what_changed(before, await effects(world, outsider))
        tally.tried += 1
        if answer.status >= 500:
            tally.five_xx += 1
            tally.note(f"{answer.status} for {attempt.how}", limit=20)
        if tracebacks := count_tracebacks(world.log.lines[log_at:]):
            tally.tracebacks += len(tracebacks)
            tally.note(f"traceback {tracebacks[-1][:150]!r} after {attempt.how}", limit=20)
        if changed:
            tally.wrong_person += 1
            tally.note(f"{attempt.action.name} by {attempt.how}: {', '.join(changed)}", limit=20)
        for view in list(world.ws.views_of(outsider.id)):
            world.ws.close_view(view.id)
    return await controls(world)


async def controls(world: World) -> list[str]:
    """The detector must see an effect when the right person acts (on Globex)."""
    cast, globex = world.cast, world.seeds.globex
    checks = [
        (
            "AE logs Globex's kickoff",
            cast.ae,
            block_action(world, cast.ae, KICKOFF_HELD, str(globex)),
        ),
        (
            "CSM opens a Globex check-in",
            cast.csm,
            block_action(world, cast.csm, CHECKIN_OPEN, str(globex)),
        ),
        (
            "manager covers the AM",
            cast.manager,
            slash(
                world,
                cast.manager,
                as_slack_sends(
                    f"cover <@{cast.am.id}> with <@{cast.csm.id}> until "
                    f"{(date.today() + timedelta(days=3)).isoformat()}"
                ),
                tag=world.tag(),
            ),
        ),
    ]
    seen = []
    for name, user, payload in checks:
        before = await effects(world, user)
        if "command" in payload:
            await world.form(payload)
        else:
            await world.interactive(payload)
        await world.settle()
        if not what_changed(before, await effects(world, user)):
            raise InstrumentError(f"positive control not detected: {name}")
        seen.append(name)
    return seen


# --- the whole run ---------------------------------------------------------------------------
async def hostile_run(
    per_entry: int = 1000,
    database_url: str | None = None,
    seed: int = 1,
    progress: Callable[[str], None] | None = None,
) -> Report:
    started = time.monotonic()
    say = progress or (lambda _text: None)
    with tempfile.TemporaryDirectory(prefix="baton-hostile-") as tmp:
        async with running_world(database_url, Path(tmp)) as world:
            tallies = []
            first_line = len(world.log.lines)
            outsider = Tally(ENTRY_POINTS[-1])
            say(f"{outsider.entry} …")
            controls_seen = await run_outsider(world, outsider)
            for entry, generate in GENERATORS.items():
                say(f"{entry} …")
                tally = Tally(entry)
                inputs = list(generate(world, Gen(seed, entry, world), per_entry))
                await run_entry(world, tally, inputs)
                tallies.append(tally)
            tallies.append(outsider)
            last_line = len(world.log.lines)
    # Seeding and shutting down must not leave tracebacks either.
    stray = count_tracebacks(world.log.lines[:first_line] + world.log.lines[last_line:])
    if stray:
        startup = Tally("seeding, start-up and shut-down", tracebacks=len(stray))
        startup.note(f"traceback outside the phases: {stray[-1][:160]}")
        tallies.append(startup)
    name = "PostgreSQL" if database_url else "SQLite"
    return Report(name, tallies, time.monotonic() - started, controls_seen)
