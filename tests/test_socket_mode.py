"""Socket Mode: the development default, exercised over a real WebSocket to the sandbox."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.platform.settings import load_settings
from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver, SlackSandbox
from tests.helpers import BATON, clean_env, free_port, stop_baton, until, wait_healthy


@pytest.fixture
async def socket_bot(sandbox: SlackSandbox, database_url: str) -> AsyncIterator[BotServer]:
    settings = load_settings(
        env_file=None,
        slack_bot_token=sandbox.workspace.bot_token,
        slack_app_token=sandbox.workspace.app_token,
        slack_api_url=sandbox.api_url,
        database_url=database_url,
    )
    server = BotServer(settings, ticker=False)
    await server.start(host="127.0.0.1", port=0)
    await until(lambda: sandbox.socket_connected)
    yield server
    await server.stop()


async def test_commands_events_and_clicks_arrive_over_the_socket(
    socket_bot: BotServer, sandbox: SlackSandbox, people
) -> None:
    driver = SlackDriver(sandbox, socket_bot.url, socket_mode=True)
    try:
        reply = await driver.command(people.manager, "help")
        assert reply.status == 200 and "/baton help" in reply.json["text"]
        assert sandbox.workspace.ephemerals[-1].user == people.manager.id
        await driver.open_home(people.manager)
        await until(lambda: people.manager.id in sandbox.workspace.home_views)
        await driver.click(people.manager, "baton_help_open", block_id="home_actions", home=True)
        await until(lambda: bool(sandbox.workspace.views_of(people.manager.id)))
        # Without a signing secret there is no HTTP endpoint for Slack to forge requests to.
        assert (await driver.get("/slack/events")).status in (404, 405)
        assert (await driver.get("/healthz")).status == 200
    finally:
        await driver.close()


async def test_the_app_token_is_only_for_the_socket(sandbox: SlackSandbox) -> None:
    from slack_sdk.errors import SlackApiError

    from bot.platform.slack_client import make_client

    app_client = make_client(sandbox.workspace.app_token, sandbox.api_url)
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        await app_client.chat_postMessage(channel="C1", text="x")
    bot_client = make_client(sandbox.workspace.bot_token, sandbox.api_url)
    with pytest.raises(SlackApiError, match="not_allowed_token_type"):
        await bot_client.apps_connections_open(app_token=sandbox.workspace.bot_token)


async def test_baton_run_in_socket_mode(
    tmp_path: Path, sandbox: SlackSandbox, database_url: str, people
) -> None:
    port = free_port()
    env = clean_env(
        SLACK_BOT_TOKEN=sandbox.workspace.bot_token,
        SLACK_APP_TOKEN=sandbox.workspace.app_token,
        SLACK_API_URL=sandbox.api_url,
        DATABASE_URL=database_url,
        PORT=str(port),
        HTTPS_PROXY="http://127.0.0.1:9",
    )
    process = await asyncio.create_subprocess_exec(
        *BATON,
        "run",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await wait_healthy(f"http://127.0.0.1:{port}", process)
        await until(lambda: sandbox.socket_connected, within_s=15)
        driver = SlackDriver(sandbox, f"http://127.0.0.1:{port}", socket_mode=True)
        reply = await driver.command(people.ae, "nonsense")
        assert "I don't know `nonsense`" in reply.text
        await driver.close()
    finally:
        await stop_baton(process)
