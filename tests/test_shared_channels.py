"""What customers see: their own shared channel, with only what is meant for them; and an
internal account channel shared by hand gets nothing internal until it is internal again."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.outbox.tick import run_tick
from bot.sandbox import SlackSandbox
from bot.sandbox.state import Channel
from storage.accounts import account_by_crm
from tests.helpers import (
    AE_ANSWERS,
    account_channel,
    ask,
    closed_won,
    deal,
    opened_view,
    run_until,
)

# Internal facts: none of these may ever show in a channel the customer can read.
INTERNAL = ("ARR", "80,000", "USD", "packet", "Gainsight", "month6", "adoption below", "risk")


def everything_in(channel: Channel) -> str:
    return "\n".join(m.text + json.dumps(m.blocks or []) for m in channel.messages)


def manager_notices(sandbox: SlackSandbox, people) -> list[str]:  # noqa: ANN001
    dm = sandbox.workspace.dm_channel(people.manager.id).messages
    return [m.text for m in dm if "shared with people outside the company" in m.text]


async def fill_packet(driver, sandbox, people) -> None:  # noqa: ANN001
    channel = account_channel(sandbox.workspace)
    request = next(m for m in channel.messages if "is due" in m.text)
    await driver.click(
        people.ae,
        "baton_packet_open",
        value=request.blocks[-1]["elements"][0]["value"],
        block_id=request.blocks[-1]["block_id"],
        channel=channel,
        message_ts=request.ts,
    )
    view = opened_view(sandbox.workspace, people.ae.id)
    await driver.submit(people.ae, view, AE_ANSWERS)


async def test_the_customer_gets_a_channel_of_their_own_with_only_what_is_meant_for_them(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    settings = sim_bot.services.settings
    settings.baton_slack_connect = True
    settings.baton_marketing_required = False
    await closed_won(sim_driver, deal(champion_email="priya@customer.test"))
    internal = account_channel(sandbox.workspace)
    shared = account_channel(sandbox.workspace, "ext-acme-robotics")
    (priya,) = await sim_driver.accept_shared_invite(shared)
    await fill_packet(sim_driver, sandbox, people)
    assert any(m.text.startswith("Next step for") for m in shared.messages)
    await run_until(sim_bot, clock, datetime(2027, 2, 5, 0, tzinfo=UTC), timedelta(hours=6))
    # The champion reads the welcome, the kickoff logistics and the day-30 introduction…
    said = [m.text for m in shared.messages]
    assert len(said) == 3, said
    assert "Welcome, Acme Robotics!" in said[0] and "kickoff" in said[1]
    assert said[2].startswith("Hi Priya, a quick note now that you're up and running")
    for word in INTERNAL:
        assert word not in everything_in(shared), word
    # …and is never in the internal channel, which Baton never shared and goes on using.
    assert priya.id not in internal.members and internal.shared_team_ids == []
    assert "ARR" in internal.topic
    day30 = next(m for m in internal.messages if "Day 30 for" in m.text)
    assert f"<#{shared.id}>" in json.dumps(day30.blocks)
    account = sim_bot.services.db.run_sync(account_by_crm, sandbox.workspace.team_id, "D-100")
    assert account.channel_shared_at is None


async def test_an_account_channel_shared_by_hand_gets_nothing_internal(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await closed_won(sim_driver, deal())
    internal = account_channel(sandbox.workspace)
    topic, posted = internal.topic, len(internal.messages)
    await sim_driver.channel_shared(internal)  # someone shares it through Slack Connect
    await run_tick(sim_bot.services)
    assert len(manager_notices(sandbox, people)) == 1
    # The CRM raises the ARR: the news is owed to the channel, held, and the topic kept.
    reply = await closed_won(sim_driver, deal(arr=150000))
    assert reply.json["updated"] == ["arr"]
    clock.advance(timedelta(hours=1))
    await run_tick(sim_bot.services)
    assert len(internal.messages) == posted and internal.topic == topic
    assert len(manager_notices(sandbox, people)) == 1  # told once, not on every message
    # Unshared: what was held goes out (once), and the channel is Baton's again.
    await sim_driver.channel_unshared(internal)
    await run_tick(sim_bot.services)
    news = [m for m in internal.messages[posted:] if "The CRM updated" in m.text]
    assert len(news) == 1 and "150000" in news[0].text
    clock.advance(timedelta(hours=1))
    await run_tick(sim_bot.services)
    assert len([m for m in internal.messages if "The CRM updated" in m.text]) == 1


async def test_a_share_without_an_event_is_seen_before_posting(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await closed_won(sim_driver, deal())
    internal = account_channel(sandbox.workspace)
    posted = len(internal.messages)
    sandbox.workspace.share_externally(internal)  # Slack's event never reached Baton
    clock.advance(timedelta(minutes=11))  # past the last look at the channel
    await closed_won(sim_driver, deal(arr=150000))
    await run_tick(sim_bot.services)
    assert len(internal.messages) == posted
    assert len(manager_notices(sandbox, people)) == 1
    sandbox.workspace.unshare_externally(internal)  # again without an event
    clock.advance(timedelta(minutes=11))
    await run_tick(sim_bot.services)
    assert [m.text for m in internal.messages[posted:] if "The CRM updated" in m.text]


async def test_a_guest_joining_the_account_channel_counts_as_outside(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await closed_won(sim_driver, deal())
    internal = account_channel(sandbox.workspace)
    guest = sandbox.workspace.add_user("gus", "Gus Guest", "gus@agency.test", guest="single")
    await sim_driver.member_joined(internal, guest)
    db, team = sim_bot.services.db, sandbox.workspace.team_id
    assert db.run_sync(account_by_crm, team, "D-100").channel_shared_at is not None
    colleague = sandbox.workspace.add_user("kai", "Kai Member", "kai@example.test")
    await sim_driver.member_joined(internal, colleague)  # a member is no exposure
    await run_tick(sim_bot.services)
    assert len(manager_notices(sandbox, people)) == 1


async def test_guests_and_other_organisations_get_nothing_from_baton(
    driver, sandbox, bot, people
) -> None:
    await closed_won(driver, deal())
    internal = account_channel(sandbox.workspace)
    priya = sandbox.workspace.add_user(
        "priya", "Priya Shah", "priya@customer.test", team_id="T0CUSTOMER"
    )
    gus = sandbox.workspace.add_user("gus", "Gus Guest", "gus@agency.test", guest="multi")
    for outsider in (priya, gus):
        said = await ask(driver, outsider, "owner acme")
        assert said == "Baton answers only members of this workspace."
        request = next(m for m in internal.messages if "is due" in m.text)
        before = set(sandbox.workspace.views)
        click = await driver.click(  # anyone in the workspace may add the marketing part
            outsider,
            "baton_marketing_open",
            value=request.blocks[-1]["elements"][0]["value"],
            block_id=request.blocks[-1]["block_id"],
            channel=internal,
            message_ts=request.ts,
        )
        assert click.status == 200 and set(sandbox.workspace.views) == before
    # A member of the workspace is answered as before.
    assert "Acme Robotics" in await ask(driver, people.csm, "owner acme")


async def test_when_slack_cannot_say_the_message_waits_for_an_answer(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await closed_won(sim_driver, deal())
    internal = account_channel(sandbox.workspace)
    clock.advance(timedelta(hours=2))  # the last look at the channel is long past
    sandbox.inject("conversations.info", status=429, retry_after=30, times=1)
    calls = len(sandbox.calls)
    await closed_won(sim_driver, deal(arr=150000))
    await run_tick(sim_bot.services)
    clock.advance(timedelta(minutes=1))  # Slack said wait 30 s; Baton looks again in a minute
    await run_tick(sim_bot.services)
    # Held when Slack would not say; posted only after Slack said the channel is internal.
    seen = [(c.method, c.status) for c in sandbox.calls[calls:]]
    post = next(i for i, call in enumerate(seen) if call == ("chat.postMessage", 200))
    assert ("conversations.info", 429) in seen[:post]
    assert ("conversations.info", 200) in seen[seen.index(("conversations.info", 429)) : post]
    assert len([m for m in internal.messages if "The CRM updated" in m.text]) == 1
    assert manager_notices(sandbox, people) == []  # and nobody was alarmed
