"""`/baton owner` and the other ownership subcommands, coverage and reassignment, through
the sandbox on a simulated clock."""

import json
from datetime import UTC, date, datetime, timedelta
from itertools import takewhile

import pytest

from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver
from storage.accounts import update_account
from storage.milestones import cycle_milestones
from tests.helpers import (
    YEAR,
    account_channel,
    ask,
    closed_won,
    deal,
    dm,
    leap,
    nudges,
    open_account,
    press,
    run_until,
)


def complete_packet(bot, sandbox, account_id: int) -> None:  # noqa: ANN001
    bot.services.db.run_sync(
        update_account,
        sandbox.workspace.team_id,
        account_id,
        packet_completed_at=datetime(2027, 1, 5, tzinfo=UTC),
        status="handed_off",
        immediate=True,
    )


def month5(bot, sandbox, account_id: int):  # noqa: ANN001, ANN201
    rows = bot.services.db.run_sync(
        cycle_milestones, sandbox.workspace.team_id, account_id, date(2028, 1, 4)
    )
    return next(m for m in rows if m.key == "month-5")


async def test_owner_answers_phase_owners_why_next_and_coverage(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    answer = await ask(sim_driver, people.manager, "owner ACME robotics")
    assert "Handoff window" in answer and "packet is not complete" in answer
    assert f"<@{people.ae.id}> — AE · *primary*: owes the handoff packet" in answer
    # Month 1's rituals are the first after the handoff window (04 Jan → 03 Feb).
    assert "*Next milestone:* AE relationship check-in on Thu 04 Feb 2027" in answer
    assert "*Tier:* Top tier (top 20 % by ARR)" in answer  # the team's only account
    assert "*Overdue:* nothing." in answer and "*Coverage:* none in effect." in answer

    complete_packet(sim_bot, sandbox, account_id)
    await leap(sim_bot, clock, datetime(2027, 7, 12, 15, tzinfo=UTC))  # month 6: co-own
    by_crm = await ask(sim_driver, people.manager, "owner d-100")
    assert "Co-own (months 6–8)" in by_crm and "Model B (AE retains commercial)" in by_crm
    assert f"<@{people.ae.id}> — AE · *primary, commercial*" in by_crm
    assert f"<@{people.csm.id}> — CSM · *primary, adoption*" in by_crm
    # Baton was down for months: the newest missed step is the one still open, and late.
    assert (
        f"*Overdue:*\n• *Business-case prep* — due 05 Jul, 7 days late — <@{people.ae.id}>"
        in by_crm
    )

    channel = account_channel(sandbox.workspace)
    in_channel = await ask(sim_driver, people.manager, "owner", channel)
    assert in_channel == by_crm
    mentioned = await ask(sim_driver, people.manager, f"owner <#{channel.id}|{channel.name}>")
    assert mentioned == by_crm


async def test_owner_matches_loosely_and_names_the_closest(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    await open_account(
        sim_driver, sim_bot, clock, timedelta(hours=1), crm_id="D-200", account_name="Acme Foods"
    )
    several = await ask(sim_driver, people.ae, "owner acme")
    assert "Several accounts match" in several
    assert "*Acme Foods* (CRM D-200)" in several and "*Acme Robotics* (CRM D-100)" in several
    assert "Acme Robotics" in await ask(sim_driver, people.ae, "owner robotics acme")
    typo = await ask(sim_driver, people.ae, "owner acme robotcs")
    assert "no account matching" in typo and "The closest names:" in typo
    assert "Acme Robotics" in typo
    nothing = await ask(sim_driver, people.ae, "owner zzqx")
    assert nothing == "I found no account matching “zzqx”. Try its name or CRM id."
    assert "Which account?" in await ask(sim_driver, people.ae, "owner")


async def test_owner_of_a_person_lists_their_accounts_and_roles(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    await open_account(
        sim_driver, sim_bot, clock, timedelta(hours=1), crm_id="D-200", account_name="Globex"
    )
    answer = await ask(sim_driver, people.manager, f"owner <@{people.csm.id}|chen>")
    assert answer.startswith(f"<@{people.csm.id}> owns 2 accounts this week")
    assert "• *Acme Robotics* — Handoff window · CSM: adoption" in answer
    assert "• *Globex* — Handoff window · CSM: adoption" in answer


async def test_assign_is_for_managers_and_admins_and_is_audited(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    sam = sandbox.workspace.add_user("sam", "Sam Lee", "sam@example.test", "Europe/Berlin")
    refused = await ask(sim_driver, people.ae, f"assign acme csm <@{sam.id}|sam>")
    assert refused == (
        f"Only a manager or a workspace admin can reassign accounts. Ask <@{people.manager.id}>."
    )
    assert "not a role" in await ask(sim_driver, people.manager, f"assign acme boss <@{sam.id}>")
    done = await ask(sim_driver, people.manager, f"assign acme csm <@{sam.id}|sam>")
    assert done == (
        f"Done: <@{sam.id}> is now the CSM of Acme Robotics (was <@{people.csm.id}>). "
        "Their nudges follow."
    )
    channel = account_channel(sandbox.workspace)
    assert sam.id in channel.members
    assert any(f"made <@{sam.id}> the CSM" in m.text for m in channel.messages)
    assert f"<@{sam.id}> — CSM" in await ask(sim_driver, people.ae, "owner acme")
    history = await ask(sim_driver, people.ae, "history acme")
    assert f"assigned by <@{people.manager.id}>: CSM <@{people.csm.id}> → <@{sam.id}>" in history

    # The month-5 nudge now goes to the new CSM, not the old one.
    complete_packet(sim_bot, sandbox, account_id)
    await leap(sim_bot, clock, datetime(2027, 6, 3, 0, tzinfo=UTC))
    await run_until(sim_bot, clock, datetime(2027, 6, 4, 12, tzinfo=UTC))
    assert len(nudges(dm(sandbox, sam), "Month-5 health flag")) == 1
    assert nudges(dm(sandbox, people.csm), "Month-5 health flag") == []

    admin = sandbox.workspace.add_user("ola", "Ola Admin", "ola@example.test")
    admin.is_admin = True
    back = await ask(sim_driver, admin, f"assign acme csm <@{people.csm.id}>")
    assert back.startswith(f"Done: <@{people.csm.id}> is now the CSM")


@pytest.fixture
async def group_bot(settings, clock, sandbox, people):  # noqa: ANN001, ANN201
    lead = sandbox.workspace.add_user("lee", "Lee Lead", "lee@example.test")
    sandbox.workspace.add_usergroup("cs-leads", [lead.id])
    server = BotServer(
        settings.model_copy(update={"baton_managers": "@cs-leads"}),
        clock,
        ticker=False,
        process_before_response=True,
    )
    await server.start(host="127.0.0.1", port=0)
    yield server, lead
    await server.stop()


async def test_a_manager_user_group_may_reassign(
    group_bot, sandbox, signing_secret, clock, people
) -> None:
    server, lead = group_bot
    driver = SlackDriver(sandbox, server.url, signing_secret)
    try:
        await open_account(driver, server, clock)
        done = await ask(driver, lead, f"assign acme ae <@{people.manager.id}>")
        assert done.startswith(f"Done: <@{people.manager.id}> is now the AE")
        assert "every account" in await ask(driver, lead, "renewals 400")
    finally:
        await driver.close()


async def test_coverage_sends_nudges_and_answers_to_the_backup_for_its_window(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    complete_packet(sim_bot, sandbox, account_id)
    sam = sandbox.workspace.add_user("sam", "Sam Lee", "sam@example.test", "Europe/London")
    await leap(sim_bot, clock, datetime(2027, 6, 1, 12, tzinfo=UTC))
    cover = f"cover <@{people.csm.id}|chen> with <@{sam.id}|sam> until 2027-06-11"
    refused = await ask(sim_driver, people.ae, cover)
    assert refused == (
        f"Only <@{people.csm.id}>, a manager of their accounts or a workspace admin can "
        f"arrange cover for <@{people.csm.id}>."
    )
    answer = await ask(sim_driver, people.csm, cover)
    assert answer.startswith(
        f"<@{sam.id}> covers for <@{people.csm.id}> from now until the end of Fri 11 Jun 2027"
    )
    assert any("You are covering for" in m.text for m in dm(sandbox, sam).messages)

    owner = await ask(sim_driver, people.manager, "owner acme")
    assert f"<@{sam.id}> _(covering for <@{people.csm.id}> until Fri 11 Jun)_ — CSM" in owner
    assert f"<@{people.csm.id}> is away until Fri 11 Jun; <@{sam.id}> covers" in owner

    await run_until(sim_bot, clock, datetime(2027, 6, 4, 12, tzinfo=UTC))
    assert nudges(dm(sandbox, people.csm), "Month-5 health flag") == []
    sam_dm = dm(sandbox, sam)
    (nudge,) = [
        m for m in sam_dm.messages if "Month-5 health flag for Acme Robotics is due." in m.text
    ]
    assert nudge.text.startswith(f"Covering for <@{people.csm.id}> (away until Fri 11 Jun)")
    assert "Covering for" in json.dumps(nudge.blocks)
    await press(sim_driver, sam, nudge, sam_dm, "baton_milestone_snooze_1")  # the backup may act
    assert month5(sim_bot, sandbox, account_id).status == "snoozed"

    # After the window the nudges are the CSM's again.
    await leap(sim_bot, clock, datetime(2027, 6, 14, 6, tzinfo=UTC))
    await run_until(sim_bot, clock, datetime(2027, 7, 6, 12, tzinfo=UTC))
    assert "is away" not in await ask(sim_driver, people.manager, "owner acme")
    history = await ask(sim_driver, people.manager, "history acme on 2027-06-07")
    assert f"away; <@{sam.id}> covered" in history


async def test_cover_off_ends_it_early(sim_driver, sim_bot, clock, sandbox, people) -> None:
    await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    sam = sandbox.workspace.add_user("sam", "Sam Lee", "sam@example.test")
    assert await ask(sim_driver, people.csm, f"cover <@{people.csm.id}> off") == (
        f"<@{people.csm.id}> has no cover arranged."
    )
    await ask(sim_driver, people.csm, f"cover <@{people.csm.id}> with <@{sam.id}> until 2027-02-01")
    ended = await ask(sim_driver, people.manager, f"cover <@{people.csm.id}> off")
    assert ended.startswith(f"Cover for <@{people.csm.id}> ended (<@{sam.id}> no longer covers)")
    assert "none in effect" in await ask(sim_driver, people.manager, "owner acme")


async def test_week_renewals_and_pending(sim_driver, sim_bot, clock, sandbox, people) -> None:
    first = await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    await open_account(
        sim_driver, sim_bot, clock, crm_id="D-200", account_name="Globex", renewal_date="2027-09-30"
    )
    complete_packet(sim_bot, sandbox, first)
    await leap(sim_bot, clock, datetime(2027, 1, 11, 15, tzinfo=UTC))  # Monday, day 7
    week = await ask(sim_driver, people.manager, "week")
    assert week.startswith("The week of 11 Jan — your team")
    # Day 8: the CSM leads, a step within the handoff window, not an entry into it.
    assert (
        "• Tue 12 Jan — *Acme Robotics* moves on within the handoff window (day 8 of 30: "
        f"implementation): <@{people.csm.id}> (CSM) leads"
    ) in week
    assert "enters Handoff window" not in week
    assert "Globex*: handoff packet, 7 days after close" in week
    renewals = await ask(sim_driver, people.manager, "renewals 300")
    assert "Globex" in renewals and "Acme Robotics" not in renewals
    assert "from 1 to" in await ask(sim_driver, people.manager, "renewals soon")
    pending = await ask(sim_driver, people.manager, "pending")
    assert "1 waiting" in pending and "Globex" in pending and "Acme" not in pending
    # Someone who is no manager sees their own accounts.
    stranger = sandbox.workspace.add_user("kim", "Kim", "kim@example.test")
    assert "0 waiting" in await ask(sim_driver, stranger, "pending")


async def test_changing_hands_is_sorted_by_date_then_name(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    # Closed Monday 4 Jan: day 8 is Tuesday 12 Jan; closed Tuesday 5 Jan: Wednesday 13 Jan.
    zenith = await open_account(
        sim_driver, sim_bot, clock, timedelta(hours=1), crm_id="D-1", account_name="Zenith"
    )
    beta = await open_account(
        sim_driver, sim_bot, clock, timedelta(hours=1), crm_id="D-2", account_name="Beta"
    )
    await leap(sim_bot, clock, datetime(2027, 1, 5, 15, tzinfo=UTC))
    acme = await open_account(
        sim_driver, sim_bot, clock, timedelta(hours=1), crm_id="D-3", account_name="Acme"
    )
    for account_id in (zenith, beta, acme):
        complete_packet(sim_bot, sandbox, account_id)
    await leap(sim_bot, clock, datetime(2027, 1, 11, 15, tzinfo=UTC))
    week = await ask(sim_driver, people.manager, "week")
    after = week.split("Changing hands:\n", 1)[1].split("\n")
    changing = list(takewhile(lambda line: line.startswith("•"), after))
    expected = ["• Tue 12 Jan — *Beta*", "• Tue 12 Jan — *Zenith*", "• Wed 13 Jan — *Acme*"]
    assert [line.split(" moves on")[0] for line in changing] == expected
    # The Monday digest (08:00 Los Angeles) reads the same.
    await run_until(sim_bot, clock, datetime(2027, 1, 11, 17, tzinfo=UTC))
    (digest,) = [m for m in dm(sandbox, people.manager).messages if "Your week from" in m.text]
    after = digest.text.split("Changing hands:\n", 1)[1].split("\n")
    changing = list(takewhile(lambda line: line.startswith("•"), after))
    assert [line.split(" moves on")[0] for line in changing] == expected
    assert "moves on within the handoff window (day 8 of 30: implementation)" in changing[0]


async def test_unknown_subcommands_answer_with_the_closest_or_help(
    sim_driver, sim_bot, people
) -> None:
    answer = await sim_driver.command(people.ae, "ownr acme")
    assert answer.json["text"] == (
        "I don't know `ownr`. Did you mean `/baton owner`?\n"
        "`/baton owner &lt;account | CRM id | #channel | @person&gt;`"
    )
    answer = await sim_driver.command(people.ae, "frobnicate acme")
    assert "I don't know `frobnicate`" in json.dumps(answer.json["blocks"])
    assert "/baton owner" in answer.json["text"] and "/baton cover" in answer.json["text"]


async def test_history_on_a_day_before_the_close(sim_driver, sim_bot, clock, people) -> None:
    await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    answer = await ask(sim_driver, people.manager, "history acme on 2026-12-01")
    assert answer == "Acme Robotics closed on 04 Jan 2027; nobody owned it on Tue 01 Dec 2026."
    assert date(2027, 1, 4)


async def test_the_app_home_pages_my_accounts_by_urgency(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    for n in range(12):
        await closed_won(
            sim_driver, deal(**YEAR, crm_id=f"D-{n:03}", account_name=f"Account {n:02}")
        )
        clock.advance(timedelta(minutes=1))  # inside Slack's per-minute rate tiers
    await run_until(sim_bot, clock, clock() + timedelta(hours=1))
    await sim_driver.open_home(people.csm)
    assert people.csm.id in sandbox.workspace.home_views
    view = sandbox.workspace.home_views[people.csm.id]
    text = json.dumps(view)
    assert len(view["blocks"]) <= 100
    assert "Your accounts (12)" in text and "page 1 of 2" in text
    assert "Team summary" not in text
    nav = view["blocks"][-3]
    assert [e["action_id"] for e in nav["elements"]] == ["baton_home_page_next"]
    await sim_driver.click(
        people.csm, "baton_home_page_next", value="1", block_id="home_pages", home=True
    )
    assert "page 2 of 2" in json.dumps(sandbox.workspace.home_views[people.csm.id])
    await sim_driver.open_home(people.manager)
    assert "Team summary" in json.dumps(sandbox.workspace.home_views.get(people.manager.id))
    manager_view = json.dumps(sandbox.workspace.home_views[people.manager.id], ensure_ascii=False)
    assert "Team summary — your team" in manager_view and "12 live accounts" in manager_view
    assert "12 packets pending" in manager_view


async def test_the_monday_digest_reaches_the_manager_at_8_their_time_once(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock, timedelta(hours=1))
    await run_until(sim_bot, clock, datetime(2027, 1, 19, 0, tzinfo=UTC))
    digests = [m for m in dm(sandbox, people.manager).messages if "Your week from" in m.text]
    # 08:00 Los Angeles on each Monday, once each (opened on Monday 4 Jan after 08:00 there).
    assert [m.at for m in digests] == [
        datetime(2027, 1, 11, 16, tzinfo=UTC),
        datetime(2027, 1, 18, 16, tzinfo=UTC),
    ]
    assert "handoff packet, 7 days after close" in digests[0].text
    assert "handoff packet, 14 days after close" in digests[1].text
