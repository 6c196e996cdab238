"""Taking deals in: set-up in Slack is queued work, and Slack is asked once per person,
not once per deal."""

from __future__ import annotations

import asyncio

from bot.admin.status import status_lines
from bot.handoff.setup_queue import setup_worker
from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver
from storage.accounts import count_setup_due
from tests.helpers import closed_won, deal, until


async def test_a_busy_days_deals_ask_slack_once_per_person(
    sim_driver, sim_bot, sandbox, people
) -> None:
    for index in range(5):
        reply = await closed_won(
            sim_driver, deal(crm_id=f"D-{index}", account_name=f"Account {index}")
        )
        assert reply.status == 202, reply.text
    asked = [c.args.get("email") for c in sandbox.calls_of("users.lookupByEmail")]
    assert sorted(asked) == sorted({people.ae.email, people.csm.email, people.manager.email})
    for index in range(5):
        assert sandbox.workspace.channel_by_name(f"acct-account-{index}") is not None


async def test_a_deal_is_answered_before_any_slack_call_and_set_up_by_the_queue(
    settings, sandbox, people
) -> None:
    """As `baton run` serves it: the webhook writes the account and answers; the set-up
    worker opens the channel afterwards, paced by the rate budget."""
    server = BotServer(settings, ticker=False)
    await server.start(host="127.0.0.1", port=0)
    driver = SlackDriver(sandbox, server.url, settings.slack_signing_secret)
    try:
        calls = len(sandbox.calls)
        reply = await closed_won(driver, deal())
        assert reply.status == 202 and reply.json["setup"] == "queued", reply.text
        assert reply.json["channel_id"] is None
        assert sandbox.calls[calls:] == []  # not one Slack call inside the request
        status = "\n".join(await status_lines(server.services, sandbox.workspace.team_id))
        assert "1 account waiting for set-up in Slack" in status
        worker = asyncio.create_task(setup_worker(server.services))
        try:
            await until(lambda: sandbox.workspace.channel_by_name("acct-acme-robotics"))
            await until(lambda: not server.services.db.run_sync(count_setup_due, "T0SANDBOX"))
        finally:
            worker.cancel()
        channel = sandbox.workspace.channel_by_name("acct-acme-robotics")
        assert {people.ae.id, people.csm.id} <= channel.members
        assert any(m.text.startswith("Welcome, Acme Robotics") for m in channel.messages)
        again = await closed_won(driver, deal(arr=90000))  # a change: the topic is queued
        assert again.json["setup"] == "queued" and again.json["updated"] == ["arr"]
    finally:
        await driver.close()
        await server.stop()
