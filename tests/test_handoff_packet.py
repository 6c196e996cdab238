"""The handoff packet modal, the gate's completion, and what the CSM does with it."""

import asyncio
import json
from dataclasses import dataclass

import pytest

from bot.sandbox import SlackDriver, SlackSandbox
from bot.sandbox.state import Channel, Message, OpenView, User
from flows.packet import Part, is_complete, problems
from storage.accounts import get_account
from storage.packets import get_draft, get_packet, versions
from tests.helpers import AE_ANSWERS, account_channel, closed_won, deal, find, opened_view


@dataclass
class Handoff:
    account_id: int
    channel: Channel
    request: Message
    ae_dm: Channel


@pytest.fixture
async def handoff(driver: SlackDriver, sandbox: SlackSandbox, people) -> Handoff:
    reply = await closed_won(driver, deal())
    assert reply.status == 202, reply.text
    channel = account_channel(sandbox.workspace)
    return Handoff(
        reply.json["account_id"],
        channel,
        find(channel, "is due"),
        sandbox.workspace.dm_channel(people.ae.id),
    )


async def open_form(
    driver: SlackDriver, user: User, handoff: Handoff, action: str = "baton_packet_open"
) -> OpenView | None:
    before = set(driver.workspace.views)
    said = len(driver.workspace.ephemerals)
    answered = len(driver.sandbox.response_posts)
    await driver.click(
        user,
        action,
        value=str(handoff.account_id),
        block_id=handoff.request.blocks[-1]["block_id"],
        channel=handoff.channel,
        message_ts=handoff.request.ts,
    )
    # The listener is done when the click is answered: it opened the form, or refused.
    new = [v for k, v in driver.workspace.views.items() if k not in before]
    assert (
        new
        or len(driver.sandbox.response_posts) > answered
        or len(driver.workspace.ephemerals) > said
    )
    return new[0] if new else None


def ephemerals_for(sandbox: SlackSandbox, user: User) -> list[str]:
    return [e.text for e in sandbox.workspace.ephemerals if e.user == user.id]


async def test_the_ae_opens_a_prefilled_modal(driver, sandbox, people, handoff) -> None:
    view = await open_form(driver, people.ae, handoff)
    assert view is not None and view.view["title"]["text"] == "Handoff packet"
    blocks = {b.get("block_id"): b for b in view.view["blocks"]}
    assert blocks["retention_model"]["element"]["initial_option"]["value"] == "B"
    assert blocks["goal"]["element"]["multiline"] is True
    assert "optional" not in blocks["skeptics"]  # part of the stakeholder map
    assert "none identified" in blocks["skeptics"]["hint"]["text"]
    assert blocks["decision_criteria"].get("optional") is True
    assert view.view["notify_on_close"] is True


async def test_only_the_ae_or_a_manager_may_fill_the_ae_part(
    driver, sandbox, people, handoff
) -> None:
    assert await open_form(driver, people.csm, handoff) is None
    assert ephemerals_for(sandbox, people.csm)
    assert "Only the AE on Acme Robotics" in ephemerals_for(sandbox, people.csm)[-1]
    assert await open_form(driver, people.manager, handoff) is not None  # the account's manager


async def test_empty_required_fields_come_back_inline(
    driver, sandbox, bot, people, handoff
) -> None:
    view = await open_form(driver, people.ae, handoff)
    reply = await driver.submit(people.ae, view, {"goal": "  "})
    body = reply.json
    assert body["response_action"] == "errors"
    assert {"goal", "objections", "success_metric", "month6_risks"} <= set(body["errors"])
    assert view.id in sandbox.workspace.views  # the modal stays open
    assert (
        bot.services.db.run_sync(get_packet, sandbox.workspace.team_id, handoff.account_id) is None
    )


async def test_skeptics_may_be_none_identified_but_never_empty(
    driver, sandbox, bot, people, handoff
) -> None:
    bot.services.settings.baton_marketing_required = False
    db, team = bot.services.db, sandbox.workspace.team_id
    view = await open_form(driver, people.ae, handoff)
    reply = await driver.submit(people.ae, view, AE_ANSWERS | {"skeptics": "   "})
    assert reply.json["errors"] == {
        "skeptics": "Name the skeptics, or write “none identified” if nobody was against the deal."
    }
    assert db.run_sync(get_account, team, handoff.account_id).packet_completed_at is None

    reply = await driver.submit(people.ae, view, AE_ANSWERS | {"skeptics": "None identified"})
    assert reply.status == 200 and not reply.text
    account = db.run_sync(get_account, team, handoff.account_id)
    assert account.status == "handed_off" and account.packet_completed_at is not None
    packet = db.run_sync(get_packet, team, handoff.account_id)
    assert packet.answers["skeptics"] == "None identified"


@pytest.mark.parametrize("answer", ["none", "NONE IDENTIFIED", "none identified"])
def test_none_identified_counts_for_the_gate(answer: str) -> None:
    answers = AE_ANSWERS | {"skeptics": answer}
    assert problems(answers, Part.AE) == {}
    assert is_complete(answers, marketing_required=False)
    assert "skeptics" in problems(AE_ANSWERS | {"skeptics": ""}, Part.AE)
    assert not is_complete({k: v for k, v in AE_ANSWERS.items() if k != "skeptics"}, False)


async def test_closing_keeps_a_draft_that_reopening_restores(
    driver, sandbox, bot, people, handoff
) -> None:
    view = await open_form(driver, people.ae, handoff)
    await driver.close_view(people.ae, view, {"goal": "Half-written goal", "retention_model": "B"})
    db, team = bot.services.db, sandbox.workspace.team_id
    assert db.run_sync(get_draft, team, handoff.account_id, people.ae.id, "ae")
    again = await open_form(driver, people.ae, handoff)
    blocks = {b.get("block_id"): b for b in again.view["blocks"]}
    assert blocks["goal"]["element"]["initial_value"] == "Half-written goal"
    assert "Restored what you typed" in json.dumps(again.view["blocks"])


async def test_packet_completes_only_with_marketings_part(
    driver, sandbox, bot, people, handoff
) -> None:
    view = await open_form(driver, people.ae, handoff)
    reply = await driver.submit(people.ae, view, AE_ANSWERS)
    assert reply.status == 200 and not reply.text  # closes the modal
    assert any("Waiting for the marketing context" in m.text for m in handoff.channel.messages)
    db, team = bot.services.db, sandbox.workspace.team_id
    assert db.run_sync(get_account, team, handoff.account_id).status == "handoff_pending"

    marketing_view = await open_form(driver, people.csm, handoff, "baton_marketing_open")
    assert marketing_view.view["title"]["text"] == "Marketing context"
    await driver.submit(
        people.csm,
        marketing_view,
        {"marketing": "Webinar 'Renewals on autopilot'; pricing page x3"},
    )
    assert any(
        m.text.startswith("The handoff packet for Acme Robotics is complete")
        for m in handoff.channel.messages
    )
    account = db.run_sync(get_account, team, handoff.account_id)
    assert account.status == "handed_off" and account.packet_completed_at is not None
    packet = db.run_sync(get_packet, team, handoff.account_id)
    assert (packet.ae_part_by, packet.marketing_part_by) == (people.ae.id, people.csm.id)
    assert [
        (v.version, v.part, v.edited_by) for v in db.run_sync(versions, team, handoff.account_id)
    ] == [(1, "ae", people.ae.id), (2, "marketing", people.csm.id)]
    summary = find(handoff.channel, "The handoff packet for Acme Robotics is complete")
    dumped = json.dumps(summary.blocks, ensure_ascii=False)
    assert AE_ANSWERS["goal"] in dumped and "Webinar" in dumped
    assert "baton_packet_ack" in dumped and "baton_packet_questions" in dumped
    assert any("Next: the joint kickoff" in m.text for m in handoff.channel.messages)
    kickoff = find(handoff.channel, "Next: the joint kickoff")
    assert "10 min" in json.dumps(kickoff.blocks) and "baton_kickoff_held" in json.dumps(
        kickoff.blocks
    )


async def test_an_icp_exception_is_a_prominent_csm_heads_up(
    driver, sandbox, bot, people, handoff
) -> None:
    bot.services.settings.baton_marketing_required = False
    view = await open_form(driver, people.ae, handoff)
    await driver.submit(people.ae, view, {**AE_ANSWERS, "icp_exception": ["yes"]})
    reply_errors = await driver.submit(
        people.ae,
        await open_form(driver, people.ae, handoff),
        {**AE_ANSWERS, "icp_exception": ["yes"]},
    )
    assert reply_errors.json["errors"]["icp_reason"].startswith("Say why")
    view = await open_form(driver, people.ae, handoff)
    await driver.submit(
        people.ae,
        view,
        {**AE_ANSWERS, "icp_exception": ["yes"], "icp_reason": "Only 40 seats; we target 200+."},
    )

    # Once in the account channel (in the packet's summary) and once to the CSM: not thrice.
    def heads_ups(channel: Channel) -> list[Message]:
        said = [(m, m.text + json.dumps(m.blocks or [])) for m in channel.messages]
        return [m for m, text in said if "outside our ideal customer profile" in text]

    (in_channel,) = heads_ups(handoff.channel)
    (in_dm,) = heads_ups(sandbox.workspace.dm_channel(people.csm.id))
    assert "40 seats" in in_dm.text and "CSM heads-up" in in_dm.text
    summary = find(handoff.channel, "The handoff packet for Acme Robotics is complete")
    assert in_channel is summary and "CSM heads-up" in json.dumps(summary.blocks[1])
    assert "40 seats" in json.dumps(summary.blocks[1])


async def complete(driver, bot, people, handoff) -> Message:
    bot.services.settings.baton_marketing_required = False
    view = await open_form(driver, people.ae, handoff)
    await driver.submit(people.ae, view, AE_ANSWERS)
    # The last of the completion posts: the summary, then the kickoff prompt.
    assert any("Next: the joint kickoff" in m.text for m in handoff.channel.messages)
    return find(handoff.channel, "The handoff packet for Acme Robotics is complete")


async def click_on(driver, user, message: Message, channel: Channel, action: str) -> None:
    block = message.blocks[-1]
    value = block["elements"][0]["value"]
    await driver.click(
        user,
        action,
        value=value,
        block_id=block["block_id"],
        channel=channel,
        message_ts=message.ts,
    )


async def test_csm_acknowledges_or_asks_in_a_thread(driver, sandbox, bot, people, handoff) -> None:
    summary = await complete(driver, bot, people, handoff)
    await click_on(driver, people.ae, summary, handoff.channel, "baton_packet_ack")
    assert ephemerals_for(sandbox, people.ae)
    assert "Only the CSM on Acme Robotics" in ephemerals_for(sandbox, people.ae)[-1]
    await click_on(driver, people.csm, summary, handoff.channel, "baton_packet_questions")
    assert any(m.thread_ts == summary.ts for m in handoff.channel.messages)
    thread = [m for m in handoff.channel.messages if m.thread_ts == summary.ts]
    assert f"<@{people.ae.id}>, please answer here" in thread[0].text
    await click_on(driver, people.csm, summary, handoff.channel, "baton_packet_questions")
    assert any("already open" in t for t in ephemerals_for(sandbox, people.csm))
    await click_on(driver, people.csm, summary, handoff.channel, "baton_packet_ack")
    assert len([m for m in handoff.channel.messages if m.thread_ts == summary.ts]) == 2
    assert "acknowledged" in handoff.channel.messages[-1].text


async def test_kickoff_is_logged_once(driver, sandbox, bot, people, handoff) -> None:
    await complete(driver, bot, people, handoff)
    prompt = find(handoff.channel, "Next: the joint kickoff")
    outsider = sandbox.workspace.add_user("olly", "Olly Out", "olly@example.test")
    sandbox.workspace.channels[handoff.channel.id].members.add(outsider.id)
    await click_on(driver, outsider, prompt, handoff.channel, "baton_kickoff_held")
    assert ephemerals_for(sandbox, outsider)
    await click_on(driver, people.csm, prompt, handoff.channel, "baton_kickoff_held")
    assert any("Kickoff held" in m.text for m in handoff.channel.messages)
    await click_on(driver, people.ae, prompt, handoff.channel, "baton_kickoff_held")
    assert any("already logged" in t for t in ephemerals_for(sandbox, people.ae))
    account = bot.services.db.run_sync(get_account, sandbox.workspace.team_id, handoff.account_id)
    assert account.kickoff_held_by == people.csm.id


async def test_edits_after_completion_are_versioned(driver, sandbox, bot, people, handoff) -> None:
    await complete(driver, bot, people, handoff)
    view = await open_form(driver, people.ae, handoff)
    blocks = {b.get("block_id"): b for b in view.view["blocks"]}
    assert blocks["goal"]["element"]["initial_value"] == AE_ANSWERS["goal"]
    await driver.submit(people.ae, view, {**AE_ANSWERS, "goal": "Forecast within 3%."})
    assert any("edited the handoff packet (version 2)" in m.text for m in handoff.channel.messages)
    history = bot.services.db.run_sync(versions, sandbox.workspace.team_id, handoff.account_id)
    assert history[-1].changes == {"goal": [AE_ANSWERS["goal"], "Forecast within 3%."]}


async def test_a_double_submission_completes_once(driver, sandbox, bot, people, handoff) -> None:
    bot.services.settings.baton_marketing_required = False
    view = await open_form(driver, people.ae, handoff)
    copy = OpenView(**{**view.__dict__})
    await asyncio.gather(
        driver.submit(people.ae, view, AE_ANSWERS), driver.submit(people.ae, copy, AE_ANSWERS)
    )  # both submissions are answered, so both listeners are done
    summaries = [m for m in handoff.channel.messages if "Acme Robotics is complete" in m.text]
    assert len(summaries) == 1
    assert (
        len(bot.services.db.run_sync(versions, sandbox.workspace.team_id, handoff.account_id)) == 1
    )


async def test_someone_else_submitting_the_ae_part_is_refused(
    driver, sandbox, bot, people, handoff
) -> None:
    view = await open_form(driver, people.ae, handoff)
    reply = await driver.submit(people.csm, view, AE_ANSWERS)
    assert reply.json["response_action"] == "errors"
    assert "Only the AE on Acme Robotics" in reply.json["errors"]["goal"]
    assert (
        bot.services.db.run_sync(get_packet, sandbox.workspace.team_id, handoff.account_id) is None
    )


async def test_an_expired_trigger_gets_a_clear_sentence(
    driver, sandbox, people, handoff, monkeypatch
) -> None:
    monkeypatch.setattr("bot.sandbox.state.TRIGGER_TTL_S", -1.0)
    assert await open_form(driver, people.ae, handoff) is None
    assert ephemerals_for(sandbox, people.ae)
    assert "took too long" in ephemerals_for(sandbox, people.ae)[-1]
    assert sandbox.calls_of("views.open")[-1].error == "expired_trigger_id"


async def test_baton_new_opens_a_modal_that_creates_the_account(
    driver, sandbox, bot, people
) -> None:
    bot.services.settings.baton_managers = people.manager.id
    await driver.command(people.manager, "new")
    view = opened_view(sandbox.workspace, people.manager.id)
    bad = await driver.submit(
        people.manager,
        view,
        {
            "account_name": "Globex",
            "crm_id": "G-1",
            "arr": "-3",
            "ae": people.ae.id,
            "csm": people.ae.id,
        },
    )
    assert set(bad.json["errors"]) == {"arr", "csm"}
    good = await driver.submit(
        people.manager,
        view,
        {
            "account_name": "Globex",
            "crm_id": "G-1",
            "arr": "20000",
            "ae": people.ae.id,
            "csm": people.csm.id,
            "renewal_date": "2028-02-29",
            "contract_start": "2027-02-28",
        },
    )
    assert good.status == 200 and not good.text
    assert sandbox.workspace.channel_by_name("acct-globex") is not None
    channel = sandbox.workspace.channel_by_name("acct-globex")
    assert {people.ae.id, people.csm.id} <= channel.members
    assert any(
        "Created *Globex*" in m.text
        for m in sandbox.workspace.dm_channel(people.manager.id).messages
    )
