"""`baton report`: the page over the team's real rows, read back in a real headless Chromium
driven over the DevTools protocol; every number on it as `/baton stats` writes it; hostile
account names escaped; an empty team; and what bad arguments get."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.platform.settings import load_settings
from bot.runtime.runner import BotServer, make_services
from bot.sandbox import SandboxWorkspace, SlackDriver
from bot.stats import figures
from bot.stats.report import definitions, periods, write_report
from bot.stats.report_args import add_parser
from bot.stats.report_cli import run_report
from flows.stats import EARLY, Measure, Rate, Stats, Tally, alerts, compute_stats
from storage.accounts import account_by_crm
from storage.renewals import record_churn, record_renewal
from storage.stats import stats_facts
from storage.workspaces import remember_workspace
from tests.conftest import People
from tests.helpers import ask, closed_won, deal

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TIMEOUT = 60.0  # only turns a hang into a failure: every wait is on an event
REPO = Path(__file__).resolve().parent.parent
HOSTILE = {
    "D-0": "<script>alert('x')</script>",
    "D-1": 'Ben & Jerry\'s "Ice" <b>Cream</b>',
}


# --- a real browser over the DevTools protocol -------------------------------------------
class DevTools:
    """One websocket to the browser; commands by id, events kept in arrival order."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._next = 0
        self._waiting: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data:
                future = self._waiting.pop(data["id"], None)
                if future is not None and not future.done():
                    future.set_result(data)
                continue
            async with self._arrived:
                self.events.append(data)
                self._arrived.notify_all()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("the browser closed the DevTools socket"))

    async def send(
        self, method: str, params: dict[str, Any] | None = None, session: str | None = None
    ) -> dict[str, Any]:
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        future = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        await self.ws.send_str(json.dumps(message))
        reply = await asyncio.wait_for(future, TIMEOUT)
        assert "error" not in reply, f"{method}: {reply['error']}"
        return reply["result"]

    async def event(self, method: str, session: str, after: int) -> dict[str, Any]:
        """The first `method` event of `session` among the events after index `after`."""

        def found() -> dict[str, Any] | None:
            for event in self.events[after:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            return None

        async def wait() -> dict[str, Any]:
            async with self._arrived:
                await self._arrived.wait_for(lambda: found() is not None)
            return found()  # type: ignore[return-value]

        return await asyncio.wait_for(wait(), TIMEOUT)

    def errors(self, session: str) -> list[dict[str, Any]]:
        """Console errors, uncaught exceptions and the browser's own error log entries."""
        bad = []
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if (
                (method == "Runtime.consoleAPICalled" and params.get("type") == "error")
                or method == "Runtime.exceptionThrown"
                or (method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error")
            ):
                bad.append(event)
        return bad

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
        with suppress(asyncio.CancelledError):
            await self._reader


async def _listening(stream: asyncio.StreamReader) -> str:
    """Wait for the browser to say its DevTools server is up; its ws:// URL."""
    said = []
    while line := await stream.readline():
        text = line.decode(errors="replace")
        said.append(text)
        if text.startswith("DevTools listening on "):
            return text.split(" on ", 1)[1].strip()
    raise AssertionError(f"Chromium exited before serving DevTools: {''.join(said)[-2000:]}")


def _read_port_file(path: Path) -> list[str]:
    try:
        return path.read_text().split()
    except FileNotFoundError:
        return []


async def _port_file(path: Path) -> tuple[str, str]:
    """The port and path Chromium writes to DevToolsActivePort. It writes the file around
    the time it says it listens, not always before, and not in one write: wait for both
    lines (a poll of a condition, bounded by TIMEOUT, not a fixed sleep)."""
    while len(lines := _read_port_file(path)) < 2:  # noqa: ASYNC110 (no event: a file)
        await asyncio.sleep(0.02)
    return lines[0], lines[1]


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


@asynccontextmanager
async def chromium(tmp_path: Path) -> AsyncIterator[DevTools]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "--no-first-run",
        "--no-default-browser-check",
        "about:blank",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its renderers and zygotes are killed with it
    )
    drain: asyncio.Task[None] | None = None
    try:
        assert browser.stderr is not None
        url = await asyncio.wait_for(_listening(browser.stderr), TIMEOUT)
        drain = asyncio.create_task(_drain(browser.stderr))  # a full pipe would stall it
        port, path = await asyncio.wait_for(_port_file(profile / "DevToolsActivePort"), TIMEOUT)
        assert url == f"ws://127.0.0.1:{port}{path}", (url, port, path)
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0) as ws,
        ):
            tools = DevTools(ws)
            try:
                yield tools
            finally:
                await tools.close()
    finally:
        with suppress(ProcessLookupError):
            os.killpg(browser.pid, signal.SIGKILL)
        await browser.wait()
        if drain is not None:
            drain.cancel()
            with suppress(asyncio.CancelledError):
                await drain


async def open_page(tools: DevTools, page: Path) -> str:
    """A new tab on `page` (a file:// URL), loaded; its DevTools session id."""
    target = await tools.send("Target.createTarget", {"url": "about:blank"})
    attached = await tools.send(
        "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
    )
    session = attached["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        await tools.send(f"{domain}.enable", session=session)
    await tools.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1100, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        session,
    )
    before = len(tools.events)
    navigated = await tools.send("Page.navigate", {"url": page.as_uri()}, session)
    assert not navigated.get("errorText"), navigated
    await tools.event("Page.loadEventFired", session, before)
    return session


async def evaluate(tools: DevTools, session: str, expression: str) -> Any:
    reply = await tools.send(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
    )
    assert "exceptionDetails" not in reply, reply["exceptionDetails"]
    return reply["result"]["value"]


READ_NUMBERS = """JSON.stringify([...document.querySelectorAll('[data-stat]')].map(e =>
  [e.getAttribute('data-stat'), e.getAttribute('data-n'), e.getAttribute('data-period'),
   e.textContent]))"""


async def read_numbers(tools: DevTools, session: str) -> list[tuple[str, int, str | None, str]]:
    rows = json.loads(await evaluate(tools, session, READ_NUMBERS))
    return [(stat, int(n), period, text) for stat, n, period, text in rows]


async def screenshot(tools: DevTools, session: str, name: str) -> Path:
    shot = await tools.send(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session
    )
    return keep(name, base64.b64decode(shot["data"]))


def keep(name: str, png: bytes) -> Path:
    """In $BATON_ARTIFACTS, or the repository's .artifacts/."""
    folder = Path(os.environ.get("BATON_ARTIFACTS") or REPO / ".artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(png)
    print(f"screenshot: {path}")
    return path


# --- what /baton stats's formatting says of a number ------------------------------------
def expected(stats: Stats, stat: str) -> tuple[str, int]:
    """The text and sample of the element `data-stat=stat`, from Stats through the
    formatting `/baton stats` uses."""
    if stat.startswith("alert."):
        key, _, threshold = stat.removeprefix("alert.").partition(".")
        alert = next(a for a in alerts(stats) if a.key == key)
        n = (
            stats.packet_rating.n
            if key == "packet_rating"
            else stats.churn_timing[EARLY].n
            if key == "early_churn"
            else stats.churn_reasons[key].n
        )
        return figures.figure(key, alert.threshold if threshold else alert.value), n
    field, _, key = stat.partition(".")
    value = getattr(stats, field)
    if key:
        item = value[key]
        if isinstance(item, Rate):
            return figures.rate(item), item.n
        if isinstance(item, Measure):
            return figures.expansion(item), item.n
        return str(item), item
    if isinstance(value, Rate):
        return figures.rate(value), value.n
    if isinstance(value, Tally):
        return figures.missing(value), value.n
    if isinstance(value, Measure):
        shown = {
            "packet_rating": figures.average,
            "packet_hours": figures.hours,
            "icp_ratio": figures.ratio,
            "first_value_days": figures.days,
        }[field]
        return shown(value), value.n
    if field == "churn_reasons":
        return figures.shares(value, figures.CAUSES), max(r.n for r in value.values())
    if field == "churn_timing":
        return figures.shares(value, figures.TIMING), max(r.n for r in value.values())
    assert value == {}, f"{stat}: a dict is shown key by key"
    return "no data yet (n=0)", 0


async def stats_of(bot: BotServer, team: str, start: datetime, end: datetime) -> Stats:
    facts = await bot.services.db.run(stats_facts, team, start, end)
    settings = bot.services.settings
    return compute_stats(facts, settings.timezone, settings.holidays)


async def check_page(
    bot: BotServer, team: str, start: datetime, end: datetime, page: Path, tmp_path: Path, shot: str
) -> tuple[list[tuple[str, int, str | None, str]], Stats, dict[str, Any]]:
    """Load the page in Chromium: no error of any kind, and every number as /baton stats
    writes it (a month's from that month's own facts). The numbers, the Stats, and what
    the DOM says of the page."""
    stats = await stats_of(bot, team, start, end)
    months = {key: (a, b) for key, _label, a, b in periods(start, end)}
    async with chromium(tmp_path) as tools:
        session = await open_page(tools, page)
        numbers = await read_numbers(tools, session)
        dom = json.loads(
            await evaluate(
                tools,
                session,
                "JSON.stringify({title: document.title, scripts: document.scripts.length, "
                "text: document.body.innerText, svgs: document.querySelectorAll('svg').length, "
                "fields: [...document.querySelectorAll('tr[data-field]')].map(r => "
                "[r.dataset.field, r.querySelector('td.definition').textContent]), "
                "alerts: [...document.querySelectorAll('[data-alert]')].map(a => "
                "[a.dataset.alert, a.textContent])})",
            )
        )
        await screenshot(tools, session, shot)
        assert tools.errors(session) == []
    assert numbers, "no [data-stat] element on the page"
    for stat, n, period, text in numbers:
        if period is None:
            want = expected(stats, stat)
        else:
            a, b = months[period]
            want = expected(await stats_of(bot, team, a, b), stat)
        assert (text, n) == want, f"{stat} {period or ''}: the page says {text!r} (n={n})"
    return numbers, stats, dom


def all_fields_defined(dom: dict[str, Any]) -> None:
    defined = definitions()
    shown = dict(dom["fields"])
    for name in Stats.__dataclass_fields__:
        if name not in ("start", "end"):
            assert shown.get(name) == defined[name] and defined[name], name


# --- the page over real rows ---------------------------------------------------------------
async def _seed(driver: SlackDriver, bot: BotServer, team: str) -> datetime:
    """Seven accounts closed now: five churn (two for an expectation mismatch, hostile
    names), one renews twice (80k → 90k → 99k), one stays."""
    now = datetime.now(UTC)
    today = now.date()
    first, second = today + timedelta(days=20), today + timedelta(days=40)
    for n in range(7):
        body = deal(
            crm_id=f"D-{n}",
            account_name=HOSTILE.get(f"D-{n}", f"Account {n}"),
            contract_start=(today - timedelta(days=300)).isoformat(),
            renewal_date=(first if n == 5 else today + timedelta(days=400)).isoformat(),
        )
        reply = await closed_won(driver, body)
        assert reply.status == 202, reply.text
    ids = {}
    for n in range(7):
        account = await bot.services.db.run(account_by_crm, team, f"D-{n}")
        assert account is not None
        ids[n] = account.id
    for n in range(5):
        reason = "expectation_mismatch" if n < 2 else "product_fit"
        outcome = await bot.services.db.run(
            record_churn,
            team,
            ids[n],
            reason=reason,
            effective=today,
            by="U0TEST",
            note=None,
            now=now,
            immediate=True,
        )
        assert outcome is not None
    for cycle, new_date, arr in ((first, second, 90000), (second, today + timedelta(400), 99000)):
        outcome = await bot.services.db.run(
            record_renewal,
            team,
            ids[5],
            cycle=cycle,
            new_date=new_date,
            new_arr=Decimal(arr),
            by="U0TEST",
            note=None,
            now=now,
            immediate=True,
        )
        assert outcome is not None
    return now


async def test_the_report_in_chromium_shows_every_number_as_baton_stats_does(
    driver: SlackDriver,
    bot: BotServer,
    people: People,
    workspace: SandboxWorkspace,
    tmp_path: Path,
) -> None:
    team = workspace.team_id
    now = await _seed(driver, bot, team)
    start = datetime(now.year, now.month, 1, tzinfo=UTC) - timedelta(days=40)
    end = datetime.combine(now.date() + timedelta(days=70), datetime.min.time(), UTC)
    page = tmp_path / "report.html"
    assert await write_report(bot.services, team, start, end, page) == 7

    numbers, stats, dom = await check_page(bot, team, start, end, page, tmp_path, "report.png")

    said = {stat: text for stat, _n, period, text in numbers if period is None}
    assert said["churn_reasons"] == "expectation mismatch 40%, product fit 60% (n=5)"
    assert said["churn_reasons.expectation_mismatch"] == "40% (2 of 5)"
    assert said["churn_timing.0-90"] == "100% (5 of 5)"
    assert said["alert.expectation_mismatch"] == "40%"
    assert said["alert.expectation_mismatch.threshold"] == "20%"
    assert said["alert.early_churn"] == "100%"
    renewed = next(k for k, r in stats.renewal_by_model.items() if r.count)
    assert said[f"expansion_by_model.{renewed}"] == "+11% (n=2)"  # 80k → 90k → 99k
    monthly = [p for stat, _n, p, _t in numbers if stat == "packet_completion" and p]
    assert monthly == [key for key, *_ in periods(start, end)]
    # /baton stats itself, over its own window, says the same of the churns
    answer = (await ask(driver, people.manager, "stats 30")).splitlines()
    assert f"• *Churn causes:* {said['churn_reasons']}." in answer
    assert f"• *Churn timing:* {said['churn_timing']}." in answer

    assert (
        dom["title"] == f"Baton report: {expected_team(workspace)}, {start.date()} – {end.date()}"
    )
    assert dom["scripts"] == 0 and dom["svgs"] == 6
    all_fields_defined(dom)
    mismatch = dict(dom["alerts"])["expectation_mismatch"]
    assert f"Accounts behind it: {HOSTILE['D-0']}, {HOSTILE['D-1']}." in mismatch
    html = page.read_text()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Ben &amp; Jerry&#x27;s &quot;Ice&quot; &lt;b&gt;Cream&lt;/b&gt;" in html
    assert "<script" not in html and "<b>" not in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def expected_team(workspace: SandboxWorkspace) -> str:
    name = getattr(workspace, "team_name", "") or ""
    return f"{name} ({workspace.team_id})" if name else workspace.team_id


async def test_a_team_with_no_data_gets_a_page_of_n_0(
    bot: BotServer, workspace: SandboxWorkspace, tmp_path: Path
) -> None:
    team = workspace.team_id
    end = datetime(2027, 3, 1, tzinfo=UTC)
    start = end - timedelta(days=365)
    page = tmp_path / "empty.html"
    assert await write_report(bot.services, team, start, end, page) == 0

    numbers, _stats, dom = await check_page(
        bot, team, start, end, page, tmp_path, "report-empty.png"
    )
    assert ("packet_completion", 0, None, "no data yet (n=0)") in numbers
    assert "no data yet (n=0)" in dom["text"] and "None in force." in dom["text"]
    assert dom["alerts"] == []
    all_fields_defined(dom)


def test_a_month_series_covers_the_range_exactly() -> None:
    start, end = datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    assert [(k, a.day, b.month) for k, _l, a, b in periods(start, end)] == [
        ("2026-01", 15, 2),
        ("2026-02", 1, 3),
        ("2026-03", 1, 4),
    ]
    decades = periods(datetime(1970, 1, 1, tzinfo=UTC), datetime(2199, 12, 31, tzinfo=UTC))
    assert decades[0][0] == "1970" and decades[-1][3].year == 2199 and len(decades) == 230


# --- the command -----------------------------------------------------------------------------
def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="baton")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["report", *argv])


@pytest.fixture
def known(db, database_url: str) -> Any:  # noqa: ANN001
    """Settings for `baton report`, and a way to make the workspaces Baton has met."""
    settings = load_settings(env_file=None, database_url=database_url)

    def meet(*teams: str) -> Any:
        for team in teams:
            db.run_sync(remember_workspace, team, f"Team {team}", None, datetime.now(UTC))
        return settings

    return meet


def _one_sentence(err: str, starts: str) -> None:
    assert err.startswith(f"baton: {starts}"), err
    assert err.endswith(".\n") and err.count("\n") == 1, err


def test_the_command_writes_the_page_and_says_so(
    known: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = known("T0ONE")
    out = tmp_path / "report.html"
    args = _parse(["--out", str(out), "--from", "2026-01-01", "--to", "2026-07-01"])
    assert run_report(args, settings, make_services) == 0
    said = capsys.readouterr()
    assert said.out == f"baton: wrote {out} (0 accounts, 2026-01-01 – 2026-07-01).\n"
    assert said.err == ""
    page = out.read_text()
    assert "<title>Baton report: Team T0ONE (T0ONE), 2026-01-01 – 2026-07-01</title>" in page
    assert page.count('data-period="') == 2 * 6  # completion and rating, Jan … Jun
    assert not list(tmp_path.glob(".*partial"))


def test_the_default_range_is_the_last_365_days(
    known: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = known("T0ONE")
    now = datetime(2027, 3, 10, 12, tzinfo=UTC)
    args = _parse(["--out", str(tmp_path / "r.html")])
    assert run_report(args, settings, make_services, lambda: now) == 0
    assert "(0 accounts, 2026-03-10 – 2027-03-10)." in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "teams", "says"),
    [
        (["--from", "2027-03-01", "--to", "2027-03-01"], ("T1",), "--from 2027-03-01 must be "),
        (["--from", "2027-04-01", "--to", "2027-03-01"], ("T1",), "--from 2027-04-01 must be "),
        (["--from", "2199-01-01"], ("T1",), "--from 2199-01-01 is not before today"),
        (["--team", "T9<x>"], ("T1",), "--team T9<x> is not a workspace Baton is installed in"),
        ([], ("T1", "T2"), "Baton is installed in several workspaces (T1, T2): say which"),
        ([], (), "Baton has not met a Slack workspace yet"),
    ],
)
def test_a_bad_range_or_team_gets_one_sentence_and_exit_2(
    known: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    teams: tuple[str, ...],
    says: str,
) -> None:
    settings = known(*teams)
    out = tmp_path / "r.html"
    assert run_report(_parse(["--out", str(out), *argv]), settings, make_services) == 2
    said = capsys.readouterr()
    _one_sentence(said.err, says)
    assert said.out == "" and not out.exists()


@pytest.mark.parametrize(
    ("target", "says"),
    [(".", "is a directory: name a file"), ("nowhere/r.html", "there is no directory")],
)
def test_a_file_that_cannot_be_written_gets_one_sentence(
    known: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str, says: str
) -> None:
    settings = known("T1")
    args = _parse(["--out", str(tmp_path / target)])
    assert run_report(args, settings, make_services) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and err.endswith(".\n"), err


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("2027-13-01", "expects a date such as 2027-03-01, not '2027-13-01'"),
        ("yesterday", "expects a date such as 2027-03-01, not 'yesterday'"),
        ("20270301", "expects a date such as 2027-03-01, not '20270301'"),
        ("1969-12-31", "expects a date from 1970-01-01 to 2199-12-31, not '1969-12-31'"),
        ("2200-01-01", "expects a date from 1970-01-01 to 2199-12-31, not '2200-01-01'"),
    ],
)
def test_a_malformed_date_is_argparse_s_one_line(
    capsys: pytest.CaptureFixture[str], value: str, says: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        _parse(["--out", "r.html", "--from", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == f"baton report: error: argument --from: {says}"


def test_the_dates_parse_to_days() -> None:
    args = _parse(["--out", "r.html", "--from", "2026-02-28", "--to", "2026-03-01"])
    assert (args.start, args.end, args.team) == (date(2026, 2, 28), date(2026, 3, 1), None)
