"""Helpers shared by the tests: waiting for the bot, and running `baton` as a process."""

import asyncio
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp

from bot.platform.settings import Settings

BATON = [sys.executable, "-m", "bot"]
SETTING_NAMES = tuple(name.upper() for name in Settings.model_fields)


async def until(predicate, within_s: float = 5.0) -> None:
    """Bolt acknowledges before its listeners finish: wait for their effect."""
    deadline = time.monotonic() + within_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        await asyncio.sleep(0.01)


def clean_env(**values: str) -> dict[str, str]:
    """This process's environment without any Baton setting, plus `values`."""
    env = {k: v for k, v in os.environ.items() if k not in SETTING_NAMES}
    env.update(values)
    return env


def run_baton(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*BATON, *args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=120
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_healthy(url: str, process: asyncio.subprocess.Process) -> None:
    deadline = time.monotonic() + 30
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
    code = await asyncio.wait_for(process.wait(), timeout=15)
    stderr = (await process.stderr.read()).decode()
    assert code == 0, stderr
    assert "Traceback" not in stderr


async def run_until(bot, clock, until, step=timedelta(hours=1)) -> None:  # noqa: ANN001
    """Advance simulated time step by step, ticking as `baton run`'s scheduler would."""
    from bot.outbox.tick import run_tick

    while clock() < until:
        clock.advance(step)
        await run_tick(bot.services)


async def opened_view(workspace, user_id: str):  # noqa: ANN001, ANN201
    """The one modal open for this person, once the listener (after its ack) has opened it."""
    await until(lambda: bool(workspace.views_of(user_id)))
    (view,) = workspace.views_of(user_id)
    return view


def row_counts(engine) -> dict[str, int]:  # noqa: ANN001
    """Rows in every table Baton has: what "nothing was written" is checked against."""
    from sqlalchemy import func, select
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401 (registers the tables)

    with engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in SQLModel.metadata.sorted_tables
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

    from bench.owner_latency import make_web_app_for
    from bot.platform.slack_client import make_client

    app = AsyncApp(
        signing_secret="s3cret", client=make_client(sandbox.workspace.bot_token, sandbox.api_url)
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
    from bot.listeners.commands import WORKING

    posts = len(driver.sandbox.response_posts)
    reply = await driver.command(user, text, channel)
    assert reply.status == 200, reply.text
    said = reply.json.get("text", "") if reply.text.strip().startswith("{") else reply.text
    if said and said != WORKING:
        return said

    def later() -> list:
        return [p for p in driver.sandbox.response_posts[posts:] if p.user == user.id]

    await until(lambda: bool(later()), within_s=15)
    return str(later()[0].body.get("text") or "")


@contextmanager
def scratch_database(pg_url: str | None, directory: Path) -> Iterator[str]:
    """A database of one's own: a SQLite file in `directory`, or with `pg_url` a fresh
    PostgreSQL schema there (dropped afterwards)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bot.platform.settings import load_settings

    if not pg_url:
        yield f"sqlite:///{directory / 'baton.db'}"
        return
    schema = "t_" + secrets.token_hex(6)
    url = load_settings(env_file=None, database_url=pg_url).database_url
    admin = create_engine(url)
    with admin.begin() as connection:
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
