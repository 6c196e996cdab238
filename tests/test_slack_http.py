"""The real Bolt app, served over HTTP, driven by signed requests from the sandbox driver."""

import json
import time

from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver, SlackSandbox
from bot.sandbox.driver import sign
from storage.people import get_person
from tests.helpers import opened_view


async def test_help_is_ephemeral_with_every_subcommand(
    driver: SlackDriver, sandbox: SlackSandbox, people
) -> None:
    reply = await driver.command(people.manager, "help")
    assert reply.status == 200
    body = reply.json
    assert body["response_type"] == "ephemeral"
    assert "/baton help" in body["text"]
    (shown,) = sandbox.workspace.ephemerals
    assert shown.user == people.manager.id
    assert any("/baton help" in json.dumps(block) for block in shown.blocks)


async def test_unknown_subcommand_answers_with_help(driver: SlackDriver, people) -> None:
    body = (await driver.command(people.ae, "frobnicate now")).json
    assert "I don't know `frobnicate`" in json.dumps(body["blocks"])
    empty = (await driver.command(people.ae, "   ")).json
    assert "I don't know" not in json.dumps(empty["blocks"])


async def test_app_home_is_published_with_the_users_name(
    driver: SlackDriver, sandbox: SlackSandbox, people
) -> None:
    reply = await driver.open_home(people.csm)
    assert reply.status == 200
    assert people.csm.id in sandbox.workspace.home_views
    home = sandbox.workspace.home_views[people.csm.id]
    assert "Hi Chen!" in json.dumps(home)


async def test_home_button_opens_the_help_modal(
    driver: SlackDriver, sandbox: SlackSandbox, people
) -> None:
    await driver.open_home(people.ae)
    assert people.ae.id in sandbox.workspace.home_views
    reply = await driver.click(people.ae, "baton_help_open", block_id="home_actions", home=True)
    assert reply.status == 200
    view = opened_view(sandbox.workspace, people.ae.id)
    assert view.view["title"]["text"] == "Baton commands"


async def test_user_change_refreshes_the_time_zone(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer, people
) -> None:
    people.ae.tz = "Asia/Tokyo"
    user = people.ae.as_json(sandbox.workspace.clock())
    assert (await driver.event({"type": "user_change", "user": user})).status == 200
    team = sandbox.workspace.team_id

    def stored_tz() -> str | None:
        person = bot.services.db.run_sync(get_person, team, people.ae.id)
        return person.tz if person else None

    assert stored_tz() == "Asia/Tokyo"
    # A retried delivery of the same event is harmless.
    assert (await driver.event({"type": "user_change", "user": user}, retry_num=1)).status == 200


async def test_wrong_or_stale_signatures_get_401_and_change_nothing(
    driver: SlackDriver, sandbox: SlackSandbox, people, signing_secret: str
) -> None:
    body = json.dumps(
        {
            "type": "event_callback",
            "team_id": sandbox.workspace.team_id,
            "event": {"type": "app_home_opened", "user": people.ae.id, "tab": "home"},
        }
    ).encode()
    calls_before = len(sandbox.calls)
    forged = sign("not-the-secret", body)
    stale = sign(signing_secret, body, timestamp=int(time.time()) - 6 * 60)
    for headers in (forged, stale, {}):
        reply = await driver.post("/slack/events", body, "application/json", headers)
        assert reply.status == 401
    tampered = sign(signing_secret, body)
    reply = await driver.post("/slack/events", body + b" ", "application/json", tampered)
    assert reply.status == 401
    assert len(sandbox.calls) == calls_before
    assert sandbox.workspace.home_views == {}


async def test_healthz(driver: SlackDriver) -> None:
    reply = await driver.get("/healthz")
    assert reply.status == 200
    assert reply.json["database"] == "ok"


async def test_crm_webhook_requires_a_valid_signature(driver: SlackDriver) -> None:
    body = b'{"crm_id": "D-1"}'
    good = {"X-Baton-Timestamp": str(int(time.time()))}
    good["X-Baton-Signature"] = sign("whsec-test", body, int(good["X-Baton-Timestamp"]))[
        "X-Slack-Signature"
    ]
    stale_stamp = int(time.time()) - 301
    stale = {
        "X-Baton-Timestamp": str(stale_stamp),
        "X-Baton-Signature": sign("whsec-test", body, stale_stamp)["X-Slack-Signature"],
    }
    wrong = {**good, "X-Baton-Signature": "v0=" + "0" * 64}
    for headers in ({}, wrong, stale):
        reply = await driver.post("/crm/closed-won", body, "application/json", headers)
        assert reply.status == 401
        assert "signature" in reply.json["error"]
    reply = await driver.post("/crm/closed-won", body, "application/json", good)
    assert reply.status != 401
