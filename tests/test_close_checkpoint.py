"""The month-10 close checkpoint through the sandbox on a simulated clock: the commercial
owner's "Signed" / "Not yet", the escalation when nobody answers, what `/baton owner` and
`week` say until the renewal is signed, renewed or churned, and the next cycle's first
milestone right after a renewal."""

import json
from datetime import UTC, date, datetime, timedelta

from storage.accounts import update_account
from storage.checkpoints import close_checkpoint
from tests.helpers import (
    YEAR,
    account_channel,
    ask,
    closed_won,
    containing,
    deal,
    dm,
    leap,
    nudges,
    opened_view,
    press,
    run_until,
)

# Signed Monday 4 Jan 2027, renewing Tuesday 4 Jan 2028 (80,000: model B, the AE closes):
# month 10 of the renewal year is Thursday 4 Nov 2027.
NOT_CLOSED = "*Renewal not closed by month 10* — due 04 Nov"
REASON = "Legal <review> & procurement"


async def at_month_10(sim_driver, sim_bot, clock, sandbox, people):  # noqa: ANN001, ANN201
    reply = await closed_won(sim_driver, deal(**YEAR))
    assert reply.status == 202
    await run_until(sim_bot, clock, clock() + timedelta(hours=3))
    sim_bot.services.db.run_sync(
        update_account,
        sandbox.workspace.team_id,
        reply.json["account_id"],
        packet_completed_at=datetime(2027, 1, 5, tzinfo=UTC),
        status="handed_off",
        immediate=True,
    )
    await leap(sim_bot, clock, datetime(2027, 11, 3, 0, tzinfo=UTC))
    await run_until(sim_bot, clock, datetime(2027, 11, 4, 15, tzinfo=UTC))
    ae_dm = dm(sandbox, people.ae)
    (nudge,) = nudges(ae_dm, "Renewal closed?")
    assert nudge.at == datetime(2027, 11, 4, 13, tzinfo=UTC)  # 09:00 New York (EDT)
    assert nudges(dm(sandbox, people.csm), "Renewal closed?") == []  # the AE's alone
    buttons = [e["text"]["text"] for e in nudge.blocks[-1]["elements"]]
    assert buttons[:2] == ["Signed", "Not yet"] and "Done" not in buttons
    return reply.json["account_id"], ae_dm, nudge


async def answer_not_yet(sim_driver, sandbox, people, ae_dm, nudge) -> None:  # noqa: ANN001
    await press(sim_driver, people.ae, nudge, ae_dm, "baton_close_not_yet")
    view = opened_view(sandbox.workspace, people.ae.id)
    errors = (await sim_driver.submit(people.ae, view, {})).json["errors"]
    assert errors == {
        "reason": "Say in one line why the renewal is not signed yet.",
        "expected": "Pick the date you now expect it to close.",
    }
    reply = await sim_driver.submit(people.ae, view, {"reason": REASON, "expected": "2200-01-01"})
    assert reply.json["errors"] == {"expected": "Pick a date from 1970-01-01 to 2199-12-31."}
    reply = await sim_driver.submit(people.ae, view, {"reason": REASON, "expected": "2027-11-04"})
    assert reply.json["errors"] == {"expected": "Pick a date after today."}
    reply = await sim_driver.submit(people.ae, view, {"reason": REASON, "expected": "2028-04-04"})
    assert reply.json["errors"] == {
        "expected": "Pick a date no later than 03 Apr 2028, 90 days after the renewal date."
    }
    await sim_driver.submit(people.ae, view, {"reason": REASON, "expected": "2027-12-10"})


async def test_not_yet_shows_in_owner_and_week_until_signed(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id, ae_dm, nudge = await at_month_10(sim_driver, sim_bot, clock, sandbox, people)
    # A Done click made by hand (the nudge has no Done) settles nothing.
    block = nudge.blocks[-1]
    await sim_driver.click(
        people.ae,
        "baton_milestone_done",
        value=block["elements"][0]["value"],
        block_id=block["block_id"],
        channel=ae_dm,
        message_ts=nudge.ts,
    )
    assert "with Signed or Not yet" in sandbox.workspace.ephemerals[-1].text
    await answer_not_yet(sim_driver, sandbox, people, ae_dm, nudge)
    channel = account_channel(sandbox.workspace)
    (note,) = containing(channel, "is not signed at month 10")
    assert (
        "Legal &lt;review&gt; &amp; procurement. New expected close: Fri 10 Dec 2027" in note.text
    )
    answer = await sim_bot.services.db.run(
        close_checkpoint, sandbox.workspace.team_id, account_id, date(2028, 1, 4)
    )
    assert (answer.status, answer.reason, answer.expected_close) == (
        "not_yet",
        REASON,
        date(2027, 12, 10),
    )

    # Answered: nobody is escalated about it; it shows as not closed, reason and date escaped.
    await run_until(sim_bot, clock, datetime(2027, 11, 12, 0, tzinfo=UTC))
    assert (
        containing(dm(sandbox, people.manager), "Nobody has acknowledged *Renewal closed?*") == []
    )
    shown = (
        f"{NOT_CLOSED}, 8 days late — <@{people.ae.id}>: Legal &lt;review&gt; &amp; "
        "procurement; new expected close Fri 10 Dec 2027"
    )
    assert shown in await ask(sim_driver, people.manager, "owner acme")
    assert f"• *Acme Robotics*: {shown}" in await ask(sim_driver, people.manager, "week")

    # Signed settles it, once.
    await press(sim_driver, people.ae, nudge, ae_dm, "baton_close_signed")
    assert "the renewal of *Acme Robotics* is signed" in sandbox.workspace.ephemerals[-1].text
    assert containing(channel, "The renewal of *Acme Robotics* is signed")
    assert "not closed by month 10" not in await ask(sim_driver, people.manager, "owner acme")
    assert "not closed by month 10" not in await ask(sim_driver, people.manager, "week")
    await press(sim_driver, people.ae, nudge, ae_dm, "baton_close_signed")
    assert "already recorded as signed" in sandbox.workspace.ephemerals[-1].text
    await press(sim_driver, people.ae, nudge, ae_dm, "baton_close_not_yet")
    assert "already recorded as signed" in sandbox.workspace.ephemerals[-1].text
    # Only the commercial owner (or a manager, or their backup) answers it.
    await press(sim_driver, people.csm, nudge, ae_dm, "baton_close_signed")
    assert "belongs to its owners or a manager" in sandbox.workspace.ephemerals[-1].text


async def test_unanswered_it_reaches_the_manager_and_renewed_settles_it(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await at_month_10(sim_driver, sim_bot, clock, sandbox, people)
    await run_until(sim_bot, clock, datetime(2027, 11, 10, 0, tzinfo=UTC))
    # Nudged Thursday; Friday and Monday pass: Tuesday 09:00 in Los Angeles (PST).
    (told,) = containing(dm(sandbox, people.manager), "Nobody has acknowledged *Renewal closed?*")
    assert told.at == datetime(2027, 11, 9, 17, tzinfo=UTC)
    late = f"{NOT_CLOSED}, 6 days late — <@{people.ae.id}>"
    owner = await ask(sim_driver, people.manager, "owner acme")
    assert late in owner
    assert f"• *Acme Robotics*: {late}" in await ask(sim_driver, people.manager, "week")

    # Renewed: settled, and the next cycle's first milestone is named at once (no tick).
    await sim_driver.command(people.manager, "renewed acme robotics")
    owner = await ask(sim_driver, people.manager, "owner acme")
    assert "not closed by month 10" not in owner
    assert "none planned yet" not in owner
    assert "*Next milestone:* AE relationship check-in on Tue 04 Jan 2028" in owner
    assert "not closed by month 10" not in await ask(sim_driver, people.manager, "week")


async def test_churned_settles_a_not_yet(sim_driver, sim_bot, clock, sandbox, people) -> None:
    _, ae_dm, nudge = await at_month_10(sim_driver, sim_bot, clock, sandbox, people)
    await answer_not_yet(sim_driver, sandbox, people, ae_dm, nudge)
    assert NOT_CLOSED in await ask(sim_driver, people.manager, "week")
    await sim_driver.command(people.manager, "churned acme robotics")
    view = opened_view(sandbox.workspace, people.manager.id)
    await sim_driver.submit(people.manager, view, {"reason": "economic"})
    assert "not closed by month 10" not in await ask(sim_driver, people.manager, "week")
    await press(sim_driver, people.ae, nudge, ae_dm, "baton_close_signed")
    assert "has churned" in sandbox.workspace.ephemerals[-1].text
    assert "Signed" in json.dumps(nudge.blocks)
