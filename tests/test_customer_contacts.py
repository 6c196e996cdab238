"""What the customer is told about their contacts, through the sandbox on a simulated clock:
the day-30 introduction written when it is sent (from the account's model and the packet as
it is then), and a note in their channel when the retention model switches."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.outbox.tick import run_tick
from bot.sandbox.state import Channel, Message
from storage.accounts import account_by_crm
from storage.kinds import MessageKind
from storage.models import OutboxMessage
from storage.renewals import record_churn
from tests.helpers import (
    AE_ANSWERS,
    account_channel,
    ask,
    closed_won,
    containing,
    deal,
    opened_view,
    run_until,
)

# Internal: none of it may reach the customer (ARR, packet contents, ICP reasons, ratings).
INTERNAL = (
    "ARR",
    "80,000",
    "packet",
    "SOC 2",
    "Gainsight",
    "spreadsheets",
    "Tom Reed",
    "adoption below",
    "risk",
    "40 seats",
    "rate",
    "model",
)
AFTER_DAY_30 = datetime(2027, 2, 5, 0, tzinfo=UTC)


def said(channel: Channel) -> str:
    return "\n".join(m.text + json.dumps(m.blocks or []) for m in channel.messages)


def contacts_lines(message: Message) -> list[str]:
    (block,) = [b for b in message.blocks or [] if b.get("block_id") == "customer_contacts"]
    return block["text"]["text"].split("\n")


async def open_account(sim_driver, sim_bot, sandbox, **overrides):  # noqa: ANN001, ANN201
    """A closed-won deal with a customer channel the champion joined; planned once (the
    day-30 notes are owed from now on)."""
    settings = sim_bot.services.settings
    settings.baton_slack_connect = True
    settings.baton_marketing_required = False
    reply = await closed_won(sim_driver, deal(champion_email="priya@customer.test", **overrides))
    assert reply.status == 202, reply.text
    shared = account_channel(sandbox.workspace, "ext-acme-robotics")
    await sim_driver.accept_shared_invite(shared)
    await run_tick(sim_bot.services)
    return account_channel(sandbox.workspace), shared


async def fill_packet(sim_driver, sandbox, user, **answers) -> None:  # noqa: ANN001
    """`user` opens the packet from its request in the account channel and submits it."""
    channel = account_channel(sandbox.workspace)
    request = next(m for m in channel.messages if "is due" in m.text)
    await sim_driver.click(
        user,
        "baton_packet_open",
        value=request.blocks[-1]["elements"][0]["value"],
        block_id=request.blocks[-1]["block_id"],
        channel=channel,
        message_ts=request.ts,
    )
    view = opened_view(sandbox.workspace, user.id)
    reply = await sim_driver.submit(user, view, {**AE_ANSWERS, **answers})
    assert "errors" not in (reply.text or ""), reply.text


def owed_kinds(sim_bot, team: str) -> list[str]:  # noqa: ANN001
    def kinds(session):  # noqa: ANN001, ANN202
        return list(
            session.scalars(select(OutboxMessage.kind).where(OutboxMessage.team_id == team))
        )

    return sim_bot.services.db.run_sync(kinds)


async def test_the_day30_note_names_who_owns_what_under_model_b_and_greets_the_champion(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    internal, shared = await open_account(sim_driver, sim_bot, sandbox)
    # Owed before the packet exists (which names the champion)…
    assert MessageKind.CUSTOMER_INTRO in owed_kinds(sim_bot, sandbox.workspace.team_id)
    clock.advance(timedelta(days=2))
    await fill_packet(
        sim_driver, sandbox, people.ae, icp_exception=["yes"], icp_reason="Only 40 seats."
    )
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    # …and written when it goes: the champion greeted, the AE for the commercial side.
    (intro,) = containing(shared, "up and running")
    assert intro.text.startswith("Hi Priya, a quick note now that you're up and running")
    csm, ae = contacts_lines(intro)
    assert csm.startswith(f"• <@{people.csm.id}> (customer success): day-to-day questions")
    assert "the renewal" not in csm and "pricing" not in csm
    assert ae == (
        f"• <@{people.ae.id}> (account executive): the renewal, pricing, the contract, "
        "expansion and the executive relationship"
    )
    for word in INTERNAL:
        assert word not in said(shared), word
    # The account channel's day-30 note says the same, and quotes what the customer read.
    (day30,) = [m for m in internal.messages if m.text.startswith("Day 30 for")]
    blocks = json.dumps(day30.blocks)
    assert f"the commercial side belong to the AE <@{people.ae.id}>" in blocks
    assert "steps back" not in blocks and f"<#{shared.id}>" in blocks and "Hi Priya" in blocks


async def test_under_model_a_the_csm_is_the_contact_for_everything_with_a_neutral_greeting(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    internal, shared = await open_account(sim_driver, sim_bot, sandbox, arr=50000)
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    (intro,) = containing(shared, "up and running")  # no packet: nobody named to greet
    assert intro.text.startswith("Hello, a quick note now that you're up and running")
    (line,) = contacts_lines(intro)
    assert line.startswith(f"• <@{people.csm.id}> (customer success): day-to-day questions")
    assert "the renewal, pricing" in line and "account executive" not in intro.text
    (day30,) = [m for m in internal.messages if m.text.startswith("Day 30 for")]
    assert "renewal included" in json.dumps(day30.blocks)


async def test_the_day30_note_is_moot_once_the_account_churned(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    _internal, shared = await open_account(sim_driver, sim_bot, sandbox)
    team = sandbox.workspace.team_id
    account = sim_bot.services.db.run_sync(account_by_crm, team, "D-100")
    clock.advance(timedelta(days=10))
    await sim_bot.services.db.run(
        record_churn,
        team,
        account.id,
        reason="product_fit",
        effective=clock().date(),
        by=people.csm.id,
        note=None,
        now=clock(),
        immediate=True,
    )
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    assert not containing(shared, "up and running")


async def test_a_manager_switching_the_model_tells_the_customer_and_the_channel(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    internal, shared = await open_account(sim_driver, sim_bot, sandbox)
    await fill_packet(sim_driver, sandbox, people.ae)  # model B
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    told = len(shared.messages)
    await fill_packet(sim_driver, sandbox, people.manager, retention_model="A")
    (note,) = shared.messages[told:]
    assert note.text.startswith("Hi Priya, a change on our side for Acme Robotics")
    (line,) = contacts_lines(note)
    assert line.startswith(f"• <@{people.csm.id}> (customer success): day-to-day")
    assert "the renewal, pricing, the contract" in line
    for word in INTERNAL:
        assert word not in said(shared), word
    (switch,) = containing(internal, "switched from model B")
    assert "A · Clean handoff" in switch.text and f"<#{shared.id}>" in switch.text
    assert f"The CSM <@{people.csm.id}> now owns the renewal" in switch.text
    # Editing another field is no switch: nothing more for the customer.
    await fill_packet(sim_driver, sandbox, people.manager, retention_model="A", goal="Faster.")
    assert len(shared.messages) == told + 1


async def test_two_quick_switches_back_to_what_the_customer_knows_say_nothing(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    internal, shared = await open_account(sim_driver, sim_bot, sandbox)
    await fill_packet(sim_driver, sandbox, people.ae)  # model B
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    told = len(shared.messages)
    # Slack holds every post back for a while: both switches' notes wait their turn.
    sandbox.inject("chat.postMessage", status=429, retry_after=60, times=50)
    await fill_packet(sim_driver, sandbox, people.manager, retention_model="A")
    await fill_packet(sim_driver, sandbox, people.manager, retention_model="B")
    sandbox.faults.clear()
    await run_until(sim_bot, clock, clock() + timedelta(minutes=10), timedelta(minutes=2))
    assert len(shared.messages) == told  # back to B, as the day-30 note said
    assert len(containing(internal, "switched from model")) == 2  # the channel hears both


async def test_a_tiered_account_crossing_the_threshold_tells_the_customer(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    internal, shared = await open_account(sim_driver, sim_bot, sandbox)
    await fill_packet(sim_driver, sandbox, people.ae, retention_model="D")  # 80,000: side B
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    (intro,) = containing(shared, "up and running")
    assert len(contacts_lines(intro)) == 2  # the CSM, and the AE for the commercial side
    told = len(shared.messages)
    await closed_won(sim_driver, deal(champion_email="priya@customer.test", arr=90000))
    assert len(shared.messages) == told  # still side B: the same contacts
    await closed_won(sim_driver, deal(champion_email="priya@customer.test", arr=50000))
    (note,) = shared.messages[told:]
    (line,) = contacts_lines(note)
    assert line.startswith(f"• <@{people.csm.id}> (customer success)") and "pricing" in line
    for word in (*INTERNAL, "50,000", "threshold"):
        assert word not in said(shared), word
    assert len(containing(internal, "across the 75,000 threshold")) == 1  # the channel's own


async def test_a_switch_without_a_customer_channel_is_told_in_the_account_channel(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    sim_bot.services.settings.baton_marketing_required = False
    await closed_won(sim_driver, deal())
    internal = account_channel(sandbox.workspace)
    await fill_packet(sim_driver, sandbox, people.ae)
    await fill_packet(sim_driver, sandbox, people.manager, retention_model="C")
    (switch,) = containing(internal, "switched from model B")
    assert "There is no customer channel" in switch.text
    kinds = owed_kinds(sim_bot, sandbox.workspace.team_id)
    assert MessageKind.CUSTOMER_CONTACTS not in kinds


async def test_a_pilot_putting_the_account_on_the_am_bridge_names_the_am(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    amir = sandbox.workspace.add_user("amir", "Amir Haddad", "amir@example.test", "Europe/London")
    internal, shared = await open_account(sim_driver, sim_bot, sandbox, am_email=amir.email)
    await fill_packet(sim_driver, sandbox, people.ae)  # model B: the AE, AM or not
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    told = len(shared.messages)
    said_back = await ask(sim_driver, people.manager, "pilot start q3 C Acme Robotics")
    assert "Pilot *q3* started" in said_back, said_back
    (note,) = shared.messages[told:]
    csm, am = contacts_lines(note)
    assert csm.startswith(f"• <@{people.csm.id}> (customer success): day-to-day questions")
    assert am.startswith(f"• <@{amir.id}> (account manager): the renewal, pricing")
    (switch,) = containing(internal, "switched from model B to C")
    assert f"now belong to the AM <@{amir.id}>" in switch.text


async def test_a_switch_before_day_30_is_left_to_the_day30_note(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    internal, shared = await open_account(sim_driver, sim_bot, sandbox)
    await fill_packet(sim_driver, sandbox, people.ae)  # model B
    told = len(shared.messages)
    await fill_packet(sim_driver, sandbox, people.manager, retention_model="A")
    assert len(shared.messages) == told  # the day-30 note is still to come: it names them
    assert containing(internal, "switched from model B")
    await run_until(sim_bot, clock, AFTER_DAY_30, timedelta(hours=6))
    (intro,) = shared.messages[told:]
    (line,) = contacts_lines(intro)  # written when sent: model A, the CSM for everything
    assert line.startswith(f"• <@{people.csm.id}> (customer success)") and "pricing" in line
