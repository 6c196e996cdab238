"""The `baton` program as an operator runs it: real processes, real signals."""

import asyncio
import secrets
import socket
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.sandbox import SlackSandbox
from bot.sandbox.driver import sign
from storage import outbox
from storage.db import make_engine
from storage.migrate import is_current
from storage.workspaces import remember_workspace
from tests.helpers import BATON, clean_env, free_port, run_baton, stop_baton, wait_healthy
from tests.launch import launch


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "baton"
    assert script.exists(), "pip install should provide the `baton` command"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (("run",), {"PORT": "abc"}, "baton: PORT expects a whole number from 1 to 65535"),
        (("run",), {}, "baton: SLACK_BOT_TOKEN is not set"),
        (("run",), {"SLACK_BOT_TOKEN": "xoxb-1"}, "baton: SLACK_SIGNING_SECRET is not set"),
        (("db", "upgrade"), {"DATABASE_URL": "oracle://x"}, "baton: DATABASE_URL expects"),
        (("tick",), {"BATON_TIMEZONE": "Nowhere/Land"}, "baton: BATON_TIMEZONE expects"),
    ],
)
def test_bad_configuration_exits_2_with_one_sentence(tmp_path: Path, args, env, expected) -> None:
    result = run_baton(*args, cwd=tmp_path, **env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith(expected)
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_tick_rejects_a_malformed_instant(tmp_path: Path) -> None:
    result = run_baton("tick", "--now", "next tuesday", cwd=tmp_path)
    assert result.returncode == 2
    assert "expects an ISO-8601 instant" in result.stderr


def test_status_shows_the_backlog_without_slack(tmp_path: Path, database_url: str, db) -> None:
    now = datetime.now(UTC)
    db.run_sync(remember_workspace, "T1", "Acme", "UBOT", now)
    # Two due (and waiting), one tomorrow.
    dues = (now - timedelta(hours=2), now - timedelta(minutes=5), now + timedelta(days=1))
    for index, due in enumerate(dues):
        db.run_sync(
            outbox.enqueue,
            outbox.OwedMessage(
                team_id="T1", dedupe_key=f"k{index}", channel="U1", text="hi", due_at=due
            ),
        )
    result = run_baton("status", cwd=tmp_path, DATABASE_URL=database_url)
    assert result.returncode == 0, result.stderr
    assert "workspace T1" in result.stdout
    assert "Backlog: 0 accounts waiting for set-up in Slack; 2 messages due and waiting" in (
        result.stdout
    )
    assert "Messages: 3 owed" in result.stdout and "*" not in result.stdout


def test_db_upgrade(tmp_path: Path, blank_database_url: str) -> None:
    result = run_baton("db", "upgrade", cwd=tmp_path, DATABASE_URL=blank_database_url)
    assert result.returncode == 0, result.stderr
    engine = make_engine(blank_database_url)
    assert is_current(engine)
    engine.dispose()


async def test_run_serves_slack_over_http_and_stops_on_sigterm(
    tmp_path: Path, sandbox: SlackSandbox, database_url: str, people
) -> None:
    port, secret = free_port(), secrets.token_hex(8)
    env = clean_env(
        SLACK_BOT_TOKEN=sandbox.workspace.bot_token,
        SLACK_SIGNING_SECRET=secret,
        SLACK_API_URL=sandbox.api_url,
        DATABASE_URL=database_url,
        PORT=str(port),
        # Ambient settings that must not change what Baton does:
        HTTPS_PROXY="http://127.0.0.1:9",
        HTTP_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
        SLACK_CLIENT_ID="123.456",
        SLACK_CLIENT_SECRET="oauth-secret",
    )
    process = await asyncio.create_subprocess_exec(
        *BATON,
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(url, process)
        body = urlencode(
            {
                "command": "/baton",
                "text": "help",
                "user_id": people.ae.id,
                "team_id": sandbox.workspace.team_id,
                "channel_id": "D1",
                "response_url": sandbox.response_url_for(people.ae.id, "D1"),
                "trigger_id": sandbox.workspace.issue_trigger(people.ae.id),
            }
        ).encode()
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        async with aiohttp.ClientSession(trust_env=False) as session:
            async with session.post(
                url + "/slack/events", data=body, headers={**form, **sign(secret, body)}
            ) as resp:
                assert resp.status == 200
                assert "/baton help" in (await resp.json())["text"]
            async with session.post(
                url + "/slack/events", data=body, headers={**form, **sign("forged", body)}
            ) as resp:
                assert resp.status == 401
            async with session.get(url + "/slack/install") as resp:
                assert resp.status == 404, "no OAuth flow from ambient SLACK_CLIENT_ID"
        assert sandbox.calls_of("auth.test"), "the bot reached the sandbox despite HTTPS_PROXY"
    finally:
        await stop_baton(process)


async def test_concurrent_ticks_send_each_owed_message_once(
    tmp_path: Path, sandbox: SlackSandbox, db, database_url: str, people
) -> None:
    sandbox.limiter.enabled = False
    now = datetime(2027, 1, 4, 9, tzinfo=UTC)
    extra = [sandbox.workspace.add_user(f"p{n}", f"P {n}", f"p{n}@example.test") for n in range(5)]
    # Three each: within a DM's burst, so one pass sends them all.
    recipients = [people.ae.id, people.csm.id, people.manager.id, *(u.id for u in extra)]
    for index in range(24):
        db.run_sync(
            outbox.enqueue,
            outbox.OwedMessage(
                team_id=sandbox.workspace.team_id,
                dedupe_key=f"k{index}",
                channel=recipients[index % len(recipients)],
                text=f"m{index}",
                due_at=now - timedelta(hours=1),
            ),
        )
    env = clean_env(
        SLACK_BOT_TOKEN=sandbox.workspace.bot_token,
        SLACK_API_URL=sandbox.api_url,
        DATABASE_URL=database_url,
    )
    logs = [tmp_path / f"tick-{index}.log" for index in range(3)]
    processes = [launch(["tick", "--now", now.isoformat()], env, tmp_path, log) for log in logs]
    codes = [await asyncio.wait_for(p.wait(), timeout=60) for p in processes]
    assert codes == [0, 0, 0], [log.read_text() for log in logs]
    texts = [m.text for user in recipients for m in sandbox.workspace.dm_channel(user).messages]
    assert sorted(texts) == sorted(f"m{index}" for index in range(24))
    assert db.run_sync(outbox.count_by_status, sandbox.workspace.team_id) == {"sent": 24}


def _closed_port_url(scheme: str = "postgresql+psycopg://postgres@") -> str:
    return f"{scheme}127.0.0.1:{free_port()}/baton"


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


SLACK_ENV = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s3cret"}
OUTAGES = [
    ("db upgrade", {"DATABASE_URL": "pg-closed"}, "baton: cannot use the database at"),
    ("tick", {**SLACK_ENV, "DATABASE_URL": "pg-closed"}, "baton: cannot use the database at"),
    ("run", {**SLACK_ENV, "DATABASE_URL": "pg-closed"}, "baton: cannot use the database at"),
    ("db upgrade", {"DATABASE_URL": "pg-no-db"}, "baton: the database no_such_db does not exist"),
    ("run", {**SLACK_ENV, "DATABASE_URL": "pg-no-db"}, "baton: the database no_such_db does"),
    (
        "db upgrade",
        {"DATABASE_URL": "sqlite:////no/such/dir/x.db"},
        "baton: DATABASE_URL names the SQLite file /no/such/dir/x.db, but the directory "
        "/no/such/dir does not exist",
    ),
    (
        "run",
        {**SLACK_ENV, "DATABASE_URL": "sqlite:////no/such/dir/x.db"},
        "baton: DATABASE_URL names the SQLite file /no/such/dir/x.db",
    ),
    ("run", {**SLACK_ENV, "SLACK_API_URL": "slack-closed"}, "baton: cannot reach Slack at"),
]


@pytest.mark.parametrize(
    ("command", "env", "expected"), OUTAGES, ids=[f"{c} {e}" for c, e, _ in OUTAGES]
)
def test_what_is_unreachable_at_start_is_one_sentence_and_exit_2(
    tmp_path: Path, command: str, env: dict[str, str], expected: str
) -> None:
    if env.get("DATABASE_URL") == "pg-no-db" and not _postgres_answers():
        pytest.skip("needs PostgreSQL on 127.0.0.1:5432")
    values = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'baton.db'}",
        "PORT": str(free_port()),
        **env,
    }
    values["DATABASE_URL"] = {
        "pg-closed": _closed_port_url(),
        "pg-no-db": "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_db",
    }.get(values["DATABASE_URL"], values["DATABASE_URL"])
    if values.get("SLACK_API_URL") == "slack-closed":
        values["SLACK_API_URL"] = f"http://127.0.0.1:{free_port()}/api/"
    result = run_baton(*command.split(), cwd=tmp_path, **values)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().startswith(expected), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert not Path("/no/such/dir").exists(), "the missing directory must not be created"


async def test_a_port_already_in_use_is_one_sentence_and_exit_2(
    tmp_path: Path, sandbox: SlackSandbox, database_url: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await asyncio.to_thread(  # the sandbox answers auth.test meanwhile
            run_baton,
            "run",
            cwd=tmp_path,
            SLACK_BOT_TOKEN=sandbox.workspace.bot_token,
            SLACK_SIGNING_SECRET="s3cret",
            SLACK_API_URL=sandbox.api_url,
            DATABASE_URL=database_url,
            PORT=str(port),
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"baton: port {port} is already in use; stop what listens there or set PORT to "
        "another port."
    )


def test_a_tick_with_slack_unreachable_is_one_sentence_and_exit_2(
    tmp_path: Path, engine, db, database_url: str
) -> None:
    db.run_sync(
        outbox.enqueue,
        outbox.OwedMessage(
            team_id="T0SANDBOX",
            dedupe_key="k",
            channel="U1",
            text="hello",
            due_at=datetime(2027, 1, 4, 8, tzinfo=UTC),
        ),
    )
    slack = f"http://127.0.0.1:{free_port()}/api/"
    results = [
        run_baton(
            "tick",
            "--now",
            now,
            cwd=tmp_path,
            SLACK_BOT_TOKEN="xoxb-1",
            SLACK_API_URL=slack,
            DATABASE_URL=database_url,
        )
        for now in ("2027-01-04T09:00:00Z", "2027-01-04T10:00:00Z")
    ]
    # Without Slack nothing can be done: each tick says so, and the message stays owed.
    for result in results:
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith(f"baton: cannot reach Slack at {slack} (")
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    with engine.connect() as connection:
        status = connection.exec_driver_sql("SELECT status FROM outbox").scalar_one()
    assert status == "pending"
    assert len(results[1].stderr.strip().splitlines()) == 1
    assert "Traceback" not in results[0].stderr + results[1].stderr


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_tick_refuses_an_instant_outside_the_dates_baton_keeps(tmp_path: Path, instant) -> None:
    result = run_baton("tick", "--now", instant, cwd=tmp_path, SLACK_BOT_TOKEN="xoxb-1")
    assert result.returncode == 2
    assert "expects an instant from 1970-01-01 to 2199-12-31" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_crm_mapping_stops_baton_with_one_sentence(tmp_path: Path, database_url: str) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[salesforce.fields]\nrenewal_date = "Renewal Date"\n', encoding="utf-8")
    result = run_baton(
        "status", cwd=tmp_path, DATABASE_URL=database_url, BATON_CRM_MAPPING=str(mapping)
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line == (
        f'baton: BATON_CRM_MAPPING {mapping}: salesforce.fields.renewal_date: "Renewal Date" '
        "is not a Salesforce property name; write it as the API name, such as "
        "Renewal_Date__c or Owner.Email."
    )
