"""Closed-won intake through the real HTTP endpoint, with Slack played by the sandbox."""

import json

import pytest

from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver, SlackSandbox
from storage.accounts import account_by_crm
from tests.helpers import (
    account_channel,
    closed_won,
    deal,
    find,
    fresh_stamp,
    stale_stamp,
    texts,
)


async def test_closed_won_opens_a_private_channel_and_asks_the_ae(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer, people
) -> None:
    reply = await closed_won(driver, deal())
    assert reply.status == 202, reply.text
    body = reply.json
    assert body["ok"] and body["created"] and isinstance(body["account_id"], int)
    workspace = sandbox.workspace
    channel = account_channel(workspace)
    assert channel.is_private
    assert channel.members == {workspace.bot.id, people.ae.id, people.csm.id, people.manager.id}
    assert "80,000" in channel.topic and "2028-01-04" in channel.topic
    assert channel.bookmarks[0]["link"] == "https://crm.example.test/deals/100"
    welcome = find(channel, "The handoff window")
    assert "Days 8–30" in json.dumps(welcome.blocks, ensure_ascii=False)
    request = find(channel, "is due")
    assert "baton_packet_open" in json.dumps(request.blocks)
    assert "baton_marketing_open" in json.dumps(request.blocks)
    dm = workspace.dm_channel(people.ae.id).messages
    assert len(dm) == 1 and "baton_packet_open" in json.dumps(dm[0].blocks)
    account = bot.services.db.run_sync(account_by_crm, workspace.team_id, "D-100")
    assert account.channel_id == channel.id and account.status == "handoff_pending"
    assert account.retention_model == "B"  # 80,000 ≥ the 75,000 default threshold


async def test_redelivery_creates_nothing_new(driver: SlackDriver, sandbox: SlackSandbox) -> None:
    first = await closed_won(driver, deal())
    channel = account_channel(sandbox.workspace)
    before = (len(sandbox.workspace.channels), len(channel.messages))
    again = await closed_won(driver, deal())
    assert again.status == 202
    assert again.json["account_id"] == first.json["account_id"] and not again.json["created"]
    assert (len(sandbox.workspace.channels), len(channel.messages)) == before
    assert len(sandbox.calls_of("conversations.create")) == 1


async def test_changed_renewal_and_arr_update_the_account_and_say_so(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer
) -> None:
    await closed_won(driver, deal())
    reply = await closed_won(driver, deal(renewal_date="2028-03-31", arr=120000))
    assert reply.json["updated"] == ["arr", "renewal_date"]
    channel = account_channel(sandbox.workspace)
    notice = find(channel, "The CRM updated")
    assert "2028-01-04 → 2028-03-31" in notice.text and "ARR" in notice.text
    assert "2028-03-31" in channel.topic
    account = bot.services.db.run_sync(account_by_crm, sandbox.workspace.team_id, "D-100")
    assert str(account.renewal_date) == "2028-03-31" and account.arr == 120000
    await closed_won(driver, deal(renewal_date="2028-03-31", arr=120000))
    assert len([t for t in texts(channel) if "The CRM updated" in t]) == 1


async def test_a_new_owner_is_invited(driver: SlackDriver, sandbox: SlackSandbox) -> None:
    await closed_won(driver, deal())
    nadia = sandbox.workspace.add_user(
        "nadia", "Nadia Okafor", "nadia@example.test", "Africa/Lagos"
    )
    reply = await closed_won(driver, deal(csm_email="nadia@example.test"))
    assert reply.json["updated"] == ["csm_email"]
    assert nadia.id in account_channel(sandbox.workspace).members


@pytest.mark.parametrize("kind", ["forged", "stale", "missing"])
async def test_bad_signatures_get_401_and_write_nothing(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer, kind: str
) -> None:
    raw = json.dumps(deal()).encode()
    if kind == "forged":
        reply = await closed_won(driver, raw, secret="not-the-secret")
    elif kind == "stale":
        reply = await closed_won(driver, raw, stamp=stale_stamp())
    else:
        reply = await driver.post("/crm/closed-won", raw, "application/json", {})
    assert reply.status == 401
    assert bot.services.db.run_sync(account_by_crm, sandbox.workspace.team_id, "D-100") is None
    assert sandbox.calls_of("conversations.create") == []


async def test_malformed_json_is_400(driver: SlackDriver, bot: BotServer, sandbox) -> None:
    reply = await closed_won(driver, b'{"crm_id": ')
    assert reply.status == 400 and reply.json["error"] == "The request body is not valid JSON."
    assert sandbox.calls_of("conversations.create") == []


async def test_invalid_fields_are_422_with_every_problem(
    driver: SlackDriver, bot: BotServer, sandbox: SlackSandbox
) -> None:
    reply = await closed_won(driver, deal(crm_id=None, arr=-1, ae_email="ana"))
    assert reply.status == 422
    fields = {e["field"]: e["message"] for e in reply.json["errors"]}
    assert set(fields) == {"crm_id", "arr", "ae_email"}
    assert fields["arr"] == "arr must be a number from 0 to 999999999999.99."
    assert sandbox.calls_of("conversations.create") == []


async def test_unknown_email_is_a_visible_gap_then_picked_up(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer, people
) -> None:
    reply = await closed_won(driver, deal(csm_email="zoe@example.test"))
    assert reply.status == 202
    channel = account_channel(sandbox.workspace)
    gap = find(channel, "I could not find zoe@example.test")
    assert "CSM" in gap.text
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    assert any("zoe@example.test" in m.text for m in manager_dm)
    # Zoe joins Slack; an hour later the tick finds her and brings her in.
    zoe = sandbox.workspace.add_user("zoe", "Zoe Lin", "zoe@example.test", "Asia/Singapore")
    from datetime import timedelta

    from bot.outbox.tick import run_tick

    await run_tick(bot.services, bot.services.clock() + timedelta(hours=2))
    assert zoe.id in channel.members
    assert "now in the channel as the CSM" in find(channel, zoe.id).text


async def test_name_collision_gets_a_suffix(
    driver: SlackDriver, sandbox: SlackSandbox, people
) -> None:
    sandbox.workspace.add_channel("acct-acme-robotics", [people.ae.id])
    reply = await closed_won(driver, deal())
    assert reply.status == 202
    channel = account_channel(sandbox.workspace, "acct-acme-robotics-2")
    assert people.csm.id in channel.members


async def test_unicode_names_get_clean_channel_names(
    driver: SlackDriver, sandbox: SlackSandbox
) -> None:
    await closed_won(driver, deal(crm_id="D-7", account_name="Société Générale Ünïcode ☃"))
    await closed_won(driver, deal(crm_id="JP-9", account_name="株式会社テスト"))
    names = {c.name for c in sandbox.workspace.channels.values() if not c.is_im}
    assert {"acct-societe-generale-unicode", "acct-jp-9"} <= names


async def test_public_channels_and_slack_connect_when_configured(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer, people
) -> None:
    bot.services.settings.baton_channel_private = False
    bot.services.settings.baton_slack_connect = True
    await closed_won(driver, deal(champion_email="priya@customer.test"))
    channel = account_channel(sandbox.workspace)
    assert not channel.is_private
    # The champion is invited to a channel of their own, never to the internal one.
    assert channel.shared_invites == []
    shared = account_channel(sandbox.workspace, "ext-acme-robotics")
    assert shared.shared_invites == ["priya@customer.test"]
    assert shared.members == {sandbox.workspace.bot.id, people.ae.id, people.csm.id}
    (welcome,) = shared.messages
    assert "Welcome, Acme Robotics!" in welcome.text and "ARR" not in welcome.text
    account = bot.services.db.run_sync(account_by_crm, sandbox.workspace.team_id, "D-100")
    assert (account.ext_channel_id, account.ext_channel_name) == (shared.id, shared.name)


async def test_a_failed_slack_connect_invite_is_said_not_fatal(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer
) -> None:
    bot.services.settings.baton_slack_connect = True
    sandbox.inject("conversations.inviteShared", error="not_paid")
    reply = await closed_won(driver, deal(champion_email="priya@customer.test"))
    assert reply.status == 202
    notice = find(account_channel(sandbox.workspace), "priya@customer.test").text
    assert "not_paid" in notice and "this channel stays internal" in notice


async def test_marketing_ops_are_asked_for_their_part(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer
) -> None:
    mo = sandbox.workspace.add_user("mo", "Mo Marketing", "mo@example.test")
    bot.services.settings.baton_marketing_users = mo.id
    await closed_won(driver, deal())
    (ask,) = sandbox.workspace.dm_channel(mo.id).messages
    assert "baton_marketing_open" in json.dumps(ask.blocks)


async def test_slack_trouble_during_setup_is_finished_by_the_tick(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer, people
) -> None:
    sandbox.inject("conversations.invite", status=503)
    reply = await closed_won(driver, deal())
    assert reply.status == 202  # accepted: the deal is recorded
    account = bot.services.db.run_sync(account_by_crm, sandbox.workspace.team_id, "D-100")
    assert account.provisioned_at is None
    from bot.outbox.tick import run_tick

    await run_tick(bot.services)
    channel = account_channel(sandbox.workspace)
    assert people.csm.id in channel.members
    assert len(sandbox.calls_of("conversations.create")) == 1  # the same channel, finished
    assert len([t for t in texts(channel) if t.startswith("Welcome")]) == 1


async def test_simultaneous_deliveries_of_a_new_deal_open_one_channel(
    driver: SlackDriver, sandbox: SlackSandbox
) -> None:
    import asyncio

    replies = await asyncio.gather(*(closed_won(driver, deal()) for _ in range(4)))
    assert [r.status for r in replies] == [202] * 4
    assert len({r.json["account_id"] for r in replies}) == 1
    assert [r.json["created"] for r in replies].count(True) == 1
    names = [c.name for c in sandbox.workspace.channels.values() if c.name.startswith("acct-")]
    assert names == ["acct-acme-robotics"]
    assert (
        len([t for t in texts(account_channel(sandbox.workspace)) if t.startswith("Welcome")]) == 1
    )


async def test_a_replayed_delivery_is_refused_and_changes_nothing(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer
) -> None:
    raw = json.dumps(deal(arr=90000)).encode()
    stamp = fresh_stamp()
    first = await closed_won(driver, raw, stamp=stamp)
    assert first.status == 202
    calls = len(sandbox.calls)
    again = await closed_won(driver, raw, stamp=stamp)  # the same request, captured
    assert again.status == 409 and "already received" in again.json["error"]
    assert len(sandbox.calls) == calls  # nothing at all was done


async def test_an_older_signed_update_never_overwrites_a_newer_one(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer
) -> None:
    db, team = bot.services.db, sandbox.workspace.team_id
    stamp = fresh_stamp()
    older = json.dumps(deal(arr=80000)).encode()
    await closed_won(driver, older, stamp=stamp - 60)
    await closed_won(driver, deal(arr=150000), stamp=stamp)
    # An attacker replays the older (validly signed, still inside 5 minutes) delivery.
    replay = await closed_won(driver, older, stamp=stamp - 60)
    assert replay.status == 409
    # A different, older delivery (signed a minute before the newest) changes nothing either.
    stale = await closed_won(driver, deal(arr=70000), stamp=stamp - 30)
    assert stale.status == 202 and stale.json["updated"] == []
    assert db.run_sync(account_by_crm, team, "D-100").arr == 150000


async def test_the_payloads_own_update_time_orders_crm_news(
    driver: SlackDriver, sandbox: SlackSandbox, bot: BotServer
) -> None:
    db, team = bot.services.db, sandbox.workspace.team_id
    await closed_won(driver, deal(arr=90000, updated_at="2027-01-04T12:00:00Z"))
    late = await closed_won(driver, deal(arr=10000, updated_at="2027-01-04T11:00:00+00:00"))
    assert late.json["updated"] == []
    newer = await closed_won(driver, deal(arr=95000, updated_at="2027-01-04T13:00:00Z"))
    assert newer.json["updated"] == ["arr"]
    assert db.run_sync(account_by_crm, team, "D-100").arr == 95000
    bad = await closed_won(driver, deal(updated_at="yesterday"))
    assert bad.status == 422 and bad.json["errors"][0]["field"] == "updated_at"
