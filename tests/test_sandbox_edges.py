"""Slack's edge cases as the sandbox models them: deactivated people, archived channels, a
bot removed from its channel, restricted channel creation, a revoked token, Slack Connect."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platform.slack_client import make_client
from bot.sandbox import SlackDriver, SlackSandbox
from tests.helpers import bare_bolt


@pytest.fixture
def client(sandbox: SlackSandbox) -> AsyncWebClient:
    return make_client(sandbox.workspace.bot_token, sandbox.api_url, waits=False)


async def slack_error(call) -> str:  # noqa: ANN001
    with pytest.raises(SlackApiError) as raised:
        await call
    assert raised.value.response.status_code == 200
    return raised.value.response["error"]


async def test_a_deactivated_user(sandbox: SlackSandbox, client: AsyncWebClient, people) -> None:
    ws = sandbox.workspace
    channel = ws.add_channel("acct-acme", [ws.bot.id, people.ae.id, people.csm.id])
    ws.deactivate_user(people.ae)
    info = await client.users_info(user=people.ae.id)
    assert info["user"]["deleted"] is True
    assert await slack_error(client.users_lookupByEmail(email=people.ae.email)) == (
        "users_not_found"
    )
    assert await slack_error(client.conversations_open(users=people.ae.id)) == "user_disabled"
    assert await slack_error(client.chat_postMessage(channel=people.ae.id, text="hi")) == (
        "channel_not_found"
    )
    members = await client.conversations_members(channel=channel.id)
    assert people.ae.id not in members["members"]
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_invite(
            channel=channel.id, users=f"{people.ae.id},{people.manager.id}"
        )
    assert raised.value.response["error"] == "cant_invite"
    assert raised.value.response["errors"] == [
        {"user": people.ae.id, "ok": False, "error": "cant_invite"}
    ]
    assert people.manager.id not in channel.members  # the whole call failed
    await client.conversations_invite(channel=channel.id, users=people.manager.id)
    assert people.manager.id in channel.members


async def test_an_archived_channel(sandbox: SlackSandbox, client: AsyncWebClient, people) -> None:
    ws = sandbox.workspace
    channel = ws.add_channel("acct-acme", [ws.bot.id, people.ae.id], is_private=True)
    posted = await client.chat_postMessage(channel=channel.id, text="before")
    ws.archive_channel(channel)
    info = await client.conversations_info(channel=channel.id)
    assert info["channel"]["is_archived"] is True
    assert await slack_error(client.chat_postMessage(channel=channel.id, text="x")) == (
        "is_archived"
    )
    assert await slack_error(
        client.chat_postEphemeral(channel=channel.id, user=people.ae.id, text="x")
    ) == ("is_archived")
    assert await slack_error(client.chat_update(channel=channel.id, ts=posted["ts"], text="x")) == (
        "is_inactive"
    )
    assert await slack_error(
        client.conversations_invite(channel=channel.id, users=people.csm.id)
    ) == ("is_archived")
    assert await slack_error(client.conversations_setTopic(channel=channel.id, topic="x")) == (
        "is_archived"
    )
    assert await slack_error(
        client.bookmarks_add(channel_id=channel.id, title="x", type="link", link="https://x.test")
    ) == ("permission_denied")
    assert await slack_error(
        client.conversations_inviteShared(channel=channel.id, emails="p@customer.test")
    ) == ("channel_archived")
    assert await slack_error(client.conversations_create(name="acct-acme")) == "name_taken"
    ws.unarchive_channel(channel)
    assert (await client.chat_postMessage(channel=channel.id, text="after"))["ok"]


async def test_the_bot_removed_from_a_channel(
    sandbox: SlackSandbox, client: AsyncWebClient, people
) -> None:
    ws = sandbox.workspace
    private = ws.add_channel("acct-private", [ws.bot.id, people.ae.id], is_private=True)
    public = ws.add_channel("acct-public", [ws.bot.id, people.ae.id])
    ws.remove_member(private, ws.bot)
    ws.remove_member(public, ws.bot)
    assert await slack_error(client.chat_postMessage(channel=private.id, text="x")) == (
        "channel_not_found"
    )
    assert await slack_error(client.conversations_info(channel=private.id)) == ("channel_not_found")
    assert await slack_error(client.chat_postMessage(channel=public.id, text="x")) == (
        "not_in_channel"
    )
    info = await client.conversations_info(channel=public.id)
    assert info["channel"]["is_member"] is False


async def test_restricted_channel_creation(sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    sandbox.workspace.restrict_channel_creation(True)
    assert await slack_error(client.conversations_create(name="acct-x")) == "restricted_action"
    sandbox.workspace.restrict_channel_creation(False)
    assert (await client.conversations_create(name="acct-x"))["ok"]


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive", "invalid_auth"])
async def test_a_revoked_token(
    sandbox: SlackSandbox, client: AsyncWebClient, people, error: str
) -> None:
    sandbox.workspace.revoke_token(error)
    assert await slack_error(client.auth_test()) == error
    assert await slack_error(client.chat_postMessage(channel=people.ae.id, text="x")) == error
    assert await slack_error(client.users_info(user=people.ae.id)) == error
    assert not sandbox.workspace.dm_channel(people.ae.id).messages
    sandbox.workspace.restore_token()
    assert (await client.chat_postMessage(channel=people.ae.id, text="x"))["ok"]


def test_only_token_errors_can_revoke(sandbox: SlackSandbox) -> None:
    with pytest.raises(ValueError):
        sandbox.workspace.revoke_token("ratelimited")


async def test_slack_connect_invite_is_shared_once_accepted(
    sandbox: SlackSandbox, client: AsyncWebClient, driver: SlackDriver, people
) -> None:
    created = await client.conversations_create(name="acct-acme", is_private=True)
    channel = sandbox.workspace.channels[created["channel"]["id"]]
    await client.conversations_inviteShared(channel=channel.id, emails="priya@acme.test")
    pending = (await client.conversations_info(channel=channel.id))["channel"]
    assert pending["is_pending_ext_shared"] and not pending["is_ext_shared"]
    (priya,) = await driver.accept_shared_invite(channel, team_id="T0ACME")
    shared = (await client.conversations_info(channel=channel.id))["channel"]
    assert shared["is_shared"] and shared["is_ext_shared"] and shared["is_private"]
    assert not shared["is_pending_ext_shared"]
    assert shared["shared_team_ids"] == [sandbox.workspace.team_id, "T0ACME"]
    assert priya.id in channel.members
    who = (await client.users_info(user=priya.id))["user"]
    assert who["team_id"] == "T0ACME" and who["profile"]["email"] == "priya@acme.test"


async def test_shared_channel_events_reach_the_app(sandbox: SlackSandbox, people) -> None:
    ws = sandbox.workspace
    channel = ws.add_channel("acct-acme", [ws.bot.id, people.ae.id], is_private=True)
    seen: list[dict] = []

    def register(app) -> None:  # noqa: ANN001
        async def record(event: dict) -> None:
            seen.append(event)

        for kind in ("channel_shared", "channel_unshared", "member_joined_channel"):
            app.event(kind)(record)

    url, runner = await bare_bolt(sandbox, register)
    driver = SlackDriver(sandbox, url, "s3cret")
    guest = ws.add_user("gus", "Gus Guest", "gus@acme.test", team_id="T0ACME", guest="single")
    try:
        await driver.channel_shared(channel, "T0ACME")
        assert channel.shared_team_ids == ["T0ACME"]
        await driver.member_joined(channel, guest, inviter=people.ae)
        assert guest.id in channel.members
        await driver.channel_unshared(channel, "T0ACME")
    finally:
        await driver.close()
        await runner.cleanup()
    assert len(seen) == 3
    shared, joined, unshared = seen
    assert shared["type"] == "channel_shared" and shared["connected_team_id"] == "T0ACME"
    assert joined["user"] == guest.id and joined["team"] == "T0ACME"
    assert joined["channel_type"] == "G" and joined["inviter"] == people.ae.id
    assert unshared["previously_connected_team_id"] == "T0ACME"
    assert unshared["is_ext_shared"] is False
    assert channel.shared_team_ids == [] and guest.id not in channel.members
    info = guest.as_json(ws.clock())
    assert info["is_restricted"] and info["is_ultra_restricted"] and info["team_id"] == "T0ACME"


async def test_deactivation_reaches_the_bot_as_user_change(
    sandbox: SlackSandbox, driver: SlackDriver, people
) -> None:
    reply = await driver.deactivate(people.csm)
    assert reply.status == 200
    assert people.csm.deleted
