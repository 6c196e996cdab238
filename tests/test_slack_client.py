import asyncio
import os

import aiohttp
import pytest

from bot.platform.slack_client import (
    bolt_env_masked,
    close_sessions,
    make_client,
    pin_proxy,
    proxy_for,
)
from bot.sandbox import SlackSandbox

PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy")


@pytest.fixture(autouse=True)
def _no_ambient_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)


def test_loopback_is_never_proxied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    for url in ("http://127.0.0.1:8080/api/", "http://localhost:1/api/", "http://[::1]:2/api/"):
        assert proxy_for(url) is None


def test_no_proxy_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    assert proxy_for("https://slack.com/api/") == "http://proxy.corp:3128"
    monkeypatch.setenv("NO_PROXY", ".slack.com,slack.com")
    assert proxy_for("https://slack.com/api/") is None


def test_pinning_makes_every_slack_sdk_client_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    from slack_sdk.web.async_client import AsyncWebClient
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("http_proxy", "http://proxy.corp:3128")
    client = make_client("xoxb-1", "http://127.0.0.1:9/api/")
    assert client.proxy is None
    # What Bolt does per request and for respond(): build new clients that read the env.
    assert AsyncWebClient(token="xoxb-1", proxy=client.proxy).proxy is None
    assert AsyncWebhookClient("http://127.0.0.1:9/hook", proxy=None).proxy is None
    assert pin_proxy("https://slack.com/api/") is None  # the env now says: no proxy
    assert os.environ["HTTPS_PROXY"] == ""


def test_real_slack_keeps_a_configured_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:3128")
    client = make_client("xoxb-1", "https://slack.com/api/")
    assert client.proxy == "http://proxy.corp:3128"


def test_bolt_ambient_variables_are_hidden_only_during_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "123.456")
    with bolt_env_masked():
        assert "SLACK_CLIENT_ID" not in os.environ
    assert os.environ["SLACK_CLIENT_ID"] == "123.456"


async def test_calls_keep_one_connection_per_event_loop_closed_with_it(
    sandbox: SlackSandbox, people
) -> None:
    client = make_client(sandbox.workspace.bot_token, sandbox.api_url)
    for _ in range(3):
        await client.users_info(user=people.ae.id)
    here = {call.connection for call in sandbox.calls_of("users.info")}
    assert len(here) == 1 and 0 not in here  # one TCP connection, kept alive

    def on_another_loop() -> aiohttp.ClientSession | None:  # as the background thread's
        async def call() -> aiohttp.ClientSession | None:
            await client.users_info(user=people.ae.id)
            return client.session

        return asyncio.run(call())

    theirs = await asyncio.to_thread(on_another_loop)
    assert theirs is not None and theirs.closed  # closed as its loop shut down
    assert len({call.connection for call in sandbox.calls_of("users.info")}) == 2
    ours = client.session
    assert ours is not None and not ours.closed
    await close_sessions(client)
    assert ours.closed
