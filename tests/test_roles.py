"""`baton run --role web|worker|all`: a web process answers Slack and the CRM and does no
background work; a worker does the background work and serves only /healthz; on one
database they make one Baton."""

from __future__ import annotations

import aiohttp
import pytest

from bot.platform.settings import ConfigError
from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver
from tests.helpers import closed_won, deal, until


async def test_a_web_and_a_worker_on_one_database_make_one_baton(settings, sandbox, people) -> None:
    web = BotServer(settings, role="web", tick_seconds=1)
    worker = BotServer(settings, role="worker", tick_seconds=1)
    await web.start(host="127.0.0.1", port=0)
    await worker.start(host="127.0.0.1", port=0)
    driver = SlackDriver(sandbox, web.url, settings.slack_signing_secret)
    try:
        assert web._background is None and worker._background is not None
        reply = await closed_won(driver, deal())
        assert reply.status == 202 and reply.json["setup"] == "queued", reply.text
        # The worker finds the queued set-up on its own (no wake-up crosses processes).
        await until(lambda: sandbox.workspace.channel_by_name("acct-acme-robotics") is not None)
        channel = sandbox.workspace.channel_by_name("acct-acme-robotics")
        await until(lambda: any(m.text.startswith("Welcome") for m in channel.messages))
        async with aiohttp.ClientSession() as http:
            async with http.post(worker.url + "/crm/closed-won", data=b"{}") as answer:
                assert answer.status == 404  # a worker takes no deals
            async with http.get(worker.url + "/healthz") as answer:
                assert answer.status == 200
    finally:
        await driver.close()
        await worker.stop()
        await web.stop()


def test_an_unknown_role_is_one_sentence(settings) -> None:
    with pytest.raises(ConfigError, match="--role expects one of all, web, worker"):
        BotServer(settings, role="cron")
