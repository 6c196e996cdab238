"""Baton when Slack says someone or somewhere cannot be reached: a deactivated owner, an
archived account channel, Baton removed from it, channel creation restricted; and the
ack that must come within Slack's 3 seconds even when Slack rate-limits Baton."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.outbox.owe import about, send_now
from bot.sandbox import Channel, SlackDriver, SlackSandbox
from storage.accounts import get_account
from storage.outbox import count_by_status
from storage.people import get_person
from tests.helpers import (
    account_channel,
    ask,
    closed_won,
    containing,
    deal,
    dm,
    opened_view,
    run_until,
    until,
)

TUESDAY_NOON_NY = datetime(2027, 1, 5, 17, tzinfo=UTC)
REMINDER = "Reminder: the handoff packet for Acme Robotics is still missing."


async def open_account(sim_driver, sim_bot, clock) -> int:  # noqa: ANN001
    reply = await closed_won(sim_driver, deal())
    assert reply.status == 202
    await run_until(sim_bot, clock, clock() + timedelta(hours=1))
    return reply.json["account_id"]


def statuses(sim_bot, sandbox) -> dict[str, int]:  # noqa: ANN001
    return sim_bot.services.db.run_sync(count_by_status, sandbox.workspace.team_id)


def warnings(channel: Channel, fragment: str) -> list[str]:
    return [m.text for m in containing(channel, fragment)]


# --- deactivated owners ----------------------------------------------------------------
async def test_a_deactivated_owner_is_announced_once_and_their_nudges_go_to_the_manager(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    channel = account_channel(sandbox.workspace)
    await sim_driver.deactivate(people.ae)
    assert warnings(channel, "has been deactivated in Slack")
    await sim_driver.deactivate(people.ae)  # Slack may say it twice
    await run_until(sim_bot, clock, clock() + timedelta(minutes=1), step=timedelta(minutes=1))
    notes = warnings(channel, "has been deactivated in Slack")
    assert len(notes) == 1
    assert f"<@{people.ae.id}> (AE)" in notes[0] and f"go to <@{people.manager.id}>" in notes[0]
    assert "`/baton assign Acme Robotics ae @person`" in notes[0]

    before = len(dm(sandbox, people.ae).messages)
    await run_until(sim_bot, clock, TUESDAY_NOON_NY)
    assert len(dm(sandbox, people.ae).messages) == before  # no nudge to a deactivated AE
    (reminder,) = [m for m in dm(sandbox, people.manager).messages if REMINDER in m.text]
    assert reminder.text.startswith(f"For <@{people.ae.id}>, whose Slack account is deactivated")
    assert "failed" not in statuses(sim_bot, sandbox)


async def test_a_send_refused_for_a_deactivated_person_is_rerouted_not_failed(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    sandbox.workspace.deactivate_user(people.ae)  # no user_change reached Baton
    await run_until(sim_bot, clock, TUESDAY_NOON_NY, step=timedelta(minutes=30))
    assert [m for m in dm(sandbox, people.manager).messages if REMINDER in m.text]
    assert len(warnings(account_channel(sandbox.workspace), "has been deactivated")) == 1
    assert "failed" not in statuses(sim_bot, sandbox) and "held" not in statuses(sim_bot, sandbox)


async def test_a_deactivated_person_never_keeps_the_others_out_of_the_channel(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    channel = account_channel(sandbox.workspace)
    sandbox.workspace.deactivate_user(people.csm)
    sam = sandbox.workspace.add_user("sam", "Sam Lee", "sam@example.test")
    said = await ask(sim_driver, people.manager, f"assign acme am <@{sam.id}>")
    assert said.startswith(f"Done: <@{sam.id}> is now the AM")
    assert sam.id in channel.members
    assert any(c.error == "cant_invite" for c in sandbox.calls_of("conversations.invite"))


# --- channels Baton cannot post in -------------------------------------------------------
async def post_to_channel(sim_bot, account_id: int, key: str, text: str) -> None:  # noqa: ANN001
    services = sim_bot.services
    account = services.db.run_sync(get_account, "T0SANDBOX", account_id)
    await send_now(services, about(services, account, key, account.channel_id, text))


async def test_an_archived_channel_holds_its_messages_tells_the_manager_once_and_recovers(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    channel = account_channel(sandbox.workspace)
    sandbox.workspace.archive_channel(channel)
    await post_to_channel(sim_bot, account_id, "update-1", "Renewal prep starts next week.")
    assert statuses(sim_bot, sandbox).get("held") == 1
    probes_before = len(sandbox.calls_of("conversations.info"))
    posts_before = len(sandbox.calls_of("chat.postMessage"))
    await run_until(sim_bot, clock, clock() + timedelta(hours=1), step=timedelta(minutes=1))
    notices = warnings(dm(sandbox, people.manager), "was archived")
    assert len(notices) == 1
    assert "#acct-acme-robotics, the channel for Acme Robotics, was archived" in notices[0]
    assert (
        "Unarchive #acct-acme-robotics" in notices[0]
        and "/baton reopen Acme Robotics" in notices[0]
    )
    # No retry storm: one look every 10 minutes, the held message never re-posted.
    assert len(sandbox.calls_of("conversations.info")) - probes_before <= 7
    channel_posts = [
        c
        for c in sandbox.calls_of("chat.postMessage")[posts_before:]
        if c.args["channel"] == channel.id
    ]
    assert channel_posts == []

    sandbox.workspace.unarchive_channel(channel)
    await run_until(sim_bot, clock, clock() + timedelta(minutes=11), step=timedelta(minutes=1))
    assert [m.text for m in channel.messages][-1] == "Renewal prep starts next week."
    assert "held" not in statuses(sim_bot, sandbox)


async def test_baton_removed_from_its_private_channel_holds_until_invited_back(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    channel = account_channel(sandbox.workspace)
    ws = sandbox.workspace
    ws.remove_member(channel, ws.bot)
    await post_to_channel(sim_bot, account_id, "update-2", "Kickoff notes are in the CRM.")
    await run_until(sim_bot, clock, clock() + timedelta(minutes=30), step=timedelta(minutes=1))
    (notice,) = warnings(dm(sandbox, people.manager), "Baton was removed from")
    assert "Invite @Baton back (`/invite @Baton` in #acct-acme-robotics)" in notice
    ws.add_member(channel, ws.bot)
    await run_until(sim_bot, clock, clock() + timedelta(minutes=11), step=timedelta(minutes=1))
    assert channel.messages[-1].text == "Kickoff notes are in the CRM."


async def test_reopen_gives_the_account_a_new_channel_with_what_was_held(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    old = account_channel(sandbox.workspace)
    sandbox.workspace.archive_channel(old)
    await post_to_channel(sim_bot, account_id, "update-3", "QBR booked for March.")
    refused = await ask(sim_driver, people.ae, "reopen acme")
    assert refused == ("Only a manager or a workspace admin can give an account a new channel.")
    done = await ask(sim_driver, people.manager, "reopen acme")
    new = sandbox.workspace.channels[
        sim_bot.services.db.run_sync(get_account, "T0SANDBOX", account_id).channel_id
    ]
    assert new.id != old.id and not new.is_archived
    assert done == (
        f"Done: <#{new.id}> is now the channel for Acme Robotics. "
        "The 1 message Baton was holding follow."
    )
    assert {people.ae.id, people.csm.id, people.manager.id} <= new.members
    await run_until(sim_bot, clock, clock() + timedelta(minutes=2), step=timedelta(minutes=1))
    assert "QBR booked for March." in [m.text for m in new.messages]
    again = await ask(sim_driver, people.manager, "reopen acme")
    assert again == f"<#{new.id}> still works for Acme Robotics: nothing to reopen."
    help_text = (await sim_driver.command(people.ae, "help")).json["text"]
    assert "reopen" in help_text


async def test_restricted_channel_creation_tells_the_manager_and_waits_an_hour(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    ws = sandbox.workspace
    ws.restrict_channel_creation(True)
    reply = await closed_won(sim_driver, deal())
    assert reply.status == 202
    await run_until(sim_bot, clock, clock() + timedelta(minutes=50), step=timedelta(minutes=1))
    (notice,) = warnings(dm(sandbox, people.manager), "could not create a channel")
    assert "`/baton reopen Acme Robotics #that-channel`" in notice
    assert len(sandbox.calls_of("conversations.create")) == 1  # not once a tick

    # The manager makes a channel, invites Baton, and hands it over.
    made = ws.add_channel("acme-robotics", [ws.bot.id, people.manager.id], is_private=True)
    done = await ask(sim_driver, people.manager, f"reopen acme <#{made.id}|acme-robotics>")
    assert done == f"Done: <#{made.id}> is now the channel for Acme Robotics."
    assert {people.ae.id, people.csm.id} <= made.members
    assert any("Welcome, Acme Robotics." in m.text for m in made.messages)


# --- answering Slack in time -----------------------------------------------------------
@pytest.mark.acks_before_done
async def test_cover_acks_in_time_when_slack_rate_limits_users_info(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    sam = sandbox.workspace.add_user("sam", "Sam Lee", "sam@example.test")
    sandbox.inject("users.info", status=429, retry_after=2, times=2)  # 4 s of retries
    reply = await sim_driver.command(
        people.csm, f"cover <@{people.csm.id}> with <@{sam.id}> until 2027-02-01"
    )
    assert not reply.late and reply.json["text"] == "Working on it…"
    await until(lambda: bool(sandbox.response_posts))  # after the ack
    (answer,) = sandbox.response_posts
    assert answer.body["text"].startswith(f"<@{sam.id}> covers for <@{people.csm.id}>")
    assert not sim_driver.late_acks  # also checked by the fixture at teardown


async def test_a_refusal_after_the_ack_uses_the_response_url_not_post_ephemeral(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    elsewhere = sandbox.workspace.add_channel("random", [people.ae.id])  # Baton is not in it
    await sim_driver.command(people.ae, "checkin acme", elsewhere)
    assert sandbox.response_posts
    assert (
        "Check-ins on Acme Robotics are logged by its CSM" in sandbox.response_posts[0].body["text"]
    )
    assert not sandbox.calls_of("chat.postEphemeral")


@pytest.mark.acks_before_done
async def test_a_new_account_submission_answers_in_time_when_users_info_is_rate_limited(
    driver: SlackDriver, sandbox: SlackSandbox, bot, people
) -> None:
    bot.services.settings.baton_managers = people.manager.id  # who may create accounts
    ws = sandbox.workspace
    await driver.command(people.manager, "new")
    await until(lambda: bool(sandbox.workspace.views_of(people.manager.id)))  # after its ack
    view = opened_view(sandbox.workspace, people.manager.id)
    form = {"account_name": "Globex", "crm_id": "G-1", "arr": "20000"}
    form |= {"ae": people.ae.id, "csm": people.csm.id}
    sandbox.inject("users.info", status=429, retry_after=2, times=2)
    slow = await driver.submit(people.manager, view, form)
    assert not slow.late
    assert "Slack is slow to tell me about" in " ".join(slow.json["errors"].values())
    assert sandbox.workspace.views_of(people.manager.id) == [view]  # the form stays open
    await until(lambda: len(sandbox.calls_of("users.info")) >= 4)
    # Slack answered in the end, and Baton has written down who they are.
    known = (people.ae.id, people.csm.id)
    await until(lambda: all(bot.services.db.run_sync(get_person, ws.team_id, u) for u in known))
    done = await driver.submit(people.manager, view, form)
    assert done.status == 200 and not done.text  # the people are known now: created
    await until(lambda: sandbox.workspace.channel_by_name("acct-globex") is not None)


async def test_a_deactivated_owner_under_cover_is_followed_by_the_backup(
    sim_driver: SlackDriver, sim_bot, clock, sandbox: SlackSandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    sam = sandbox.workspace.add_user("sam", "Sam Lee", "sam@example.test")
    cover = f"cover <@{people.csm.id}> with <@{sam.id}> until 2027-02-01"
    assert "covers for" in await ask(sim_driver, people.csm, cover)
    await sim_driver.deactivate(people.csm)
    assert warnings(account_channel(sandbox.workspace), "deactivated")
    services = sim_bot.services
    account = services.db.run_sync(get_account, "T0SANDBOX", account_id)
    await send_now(services, about(services, account, "for-csm", people.csm.id, "Prep the QBR."))
    assert [m.text for m in dm(sandbox, sam).messages if "Prep the QBR." in m.text]
    assert not [m for m in dm(sandbox, people.manager).messages if "Prep the QBR." in m.text]
