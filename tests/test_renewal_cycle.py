"""The renewal cycle through the sandbox on a simulated clock: the month-5 flag, renewal
outcomes, threshold crossings, time-zone changes and catching up after downtime."""

import json
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.sandbox.state import Channel
from storage.accounts import get_account, update_account
from storage.db import session_scope
from storage.milestones import cycle_milestones
from storage.models import OutboxMessage
from tests.helpers import (
    YEAR,
    account_channel,
    closed_won,
    containing,
    deal,
    dm,
    leap,
    nudges,
    open_account,
    opened_view,
    press,
    run_until,
    upgraded_from_0009,
)

# Signed Monday 4 Jan 2027, renewing Tuesday 4 Jan 2028: month 5 is Friday 4 Jun 2027.


def milestones(bot, sandbox, account_id: int, renewal: date) -> dict:  # noqa: ANN001
    rows = bot.services.db.run_sync(
        cycle_milestones, sandbox.workspace.team_id, account_id, renewal
    )
    return {m.key: m for m in rows}


async def flag_month5(sim_driver, sim_bot, clock, sandbox, people, health: str) -> Channel:  # noqa: ANN001
    await leap(sim_bot, clock, datetime(2027, 6, 3, 0, tzinfo=UTC))
    await run_until(sim_bot, clock, datetime(2027, 6, 4, 10, tzinfo=UTC))
    csm_dm = dm(sandbox, people.csm)
    (nudge,) = nudges(csm_dm, "Month-5 health flag")
    assert nudge.at == datetime(2027, 6, 4, 8, tzinfo=UTC)  # 09:00 London summer time
    await press(sim_driver, people.csm, nudge, csm_dm, "baton_health_flag")
    view = opened_view(sandbox.workspace, people.csm.id)
    reply = await sim_driver.submit(people.csm, view, {"health": health})
    if health != "green":
        assert "risks" in reply.json["errors"]  # yellow and red must say why
        await sim_driver.submit(
            people.csm,
            view,
            {
                "health": health,
                "risks": "Champion left; usage down 40%",
                "expansion": "EU team, 30 seats",
            },
        )
    channel = account_channel(sandbox.workspace)
    assert containing(channel, "Month-5 health flag for Acme Robotics")
    return channel


async def test_a_red_month5_flag_reaches_everyone_and_starts_weekly_at_risk_reminders(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)  # 80,000: model B, the AE is commercial
    channel = await flag_month5(sim_driver, sim_bot, clock, sandbox, people, "red")
    (post,) = containing(channel, "Month-5 health flag for Acme Robotics")
    assert "Champion left" in json.dumps(post.blocks) and "EU team" in json.dumps(post.blocks)
    # The commercial owner (the AE, model B) gets the month-6 prep task with the flag, and
    # the manager hears of the red flag: each at 09:00 their own time, not at once.
    assert containing(dm(sandbox, people.ae), "Your month-6 task") == []
    await run_until(sim_bot, clock, datetime(2027, 6, 4, 17, tzinfo=UTC))
    (task,) = containing(dm(sandbox, people.ae), "Your month-6 task")
    assert "Champion left" in json.dumps(task.blocks)
    assert task.at == datetime(2027, 6, 4, 13, tzinfo=UTC)
    (told,) = containing(dm(sandbox, people.manager), "was flagged red at month 5")
    assert "until 04 Oct 2027" in told.text  # phase 2 ends when month 9 begins
    assert told.at == datetime(2027, 6, 4, 16, tzinfo=UTC)
    await run_until(sim_bot, clock, datetime(2027, 6, 18, 20, tzinfo=UTC))
    for user, hour in ((people.ae, 13), (people.csm, 8)):  # 09:00 New York, 09:00 London
        weekly = containing(dm(sandbox, user), "Weekly at-risk sync")
        assert [m.at for m in weekly] == [
            datetime(2027, 6, 11, hour, tzinfo=UTC),
            datetime(2027, 6, 18, hour, tzinfo=UTC),
        ]


async def test_a_green_flag_starts_no_at_risk_reminders(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    await flag_month5(sim_driver, sim_bot, clock, sandbox, people, "green")
    assert milestones(sim_bot, sandbox, account_id, date(2028, 1, 4))["month-5"].status == "done"
    await run_until(sim_bot, clock, datetime(2027, 6, 12, 0, tzinfo=UTC))
    assert containing(dm(sandbox, people.manager), "flagged red") == []
    assert containing(dm(sandbox, people.ae), "Weekly at-risk sync") == []


async def test_renewed_from_the_day30_nudge_starts_the_next_cycle_and_hands_back(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    # Day 30 before Tue 4 Jan 2028 is Sun 5 Dec → Fri 3 Dec, 09:00 New York for the AE.
    await leap(sim_bot, clock, datetime(2027, 12, 2, 0, tzinfo=UTC))
    await run_until(sim_bot, clock, datetime(2027, 12, 3, 15, tzinfo=UTC))
    ae_dm = dm(sandbox, people.ae)
    (nudge,) = nudges(ae_dm, "Final redline and signature")
    assert nudge.at == datetime(2027, 12, 3, 14, tzinfo=UTC)
    await press(sim_driver, people.ae, nudge, ae_dm, "baton_renewed")
    view = opened_view(sandbox.workspace, people.ae.id)
    reply = await sim_driver.submit(people.ae, view, {"new_date": "2027-06-01"})
    assert "after the current one" in reply.json["errors"]["new_date"]
    reply = await sim_driver.submit(people.ae, view, {"new_arr": "lots"})
    assert "new_arr" in reply.json["errors"]
    await sim_driver.submit(people.ae, view, {"new_arr": "96000", "note": "Two-year option"})
    channel = account_channel(sandbox.workspace)
    assert containing(channel, "Acme Robotics renewed")
    (handback,) = containing(channel, "Acme Robotics renewed")
    shown = json.dumps(handback.blocks)
    assert f"<@{people.ae.id}> (AE) hands the account back to <@{people.csm.id}>" in shown
    assert "Kickoff for the new cycle" in shown
    account = sim_bot.services.db.run_sync(get_account, sandbox.workspace.team_id, account_id)
    assert account.renewal_date == date(2029, 1, 4) and account.arr == 96000
    # The old cycle's day 7 is skipped; the new cycle is planned; nothing is sent twice.
    await run_until(sim_bot, clock, datetime(2027, 12, 31, 0, tzinfo=UTC), timedelta(hours=6))
    assert milestones(sim_bot, sandbox, account_id, date(2028, 1, 4))["day-7"].status == "skipped"
    assert nudges(dm(sandbox, people.csm), "Account confirmation") == []
    nxt = milestones(sim_bot, sandbox, account_id, date(2029, 1, 4))
    assert nxt["month-5"].due_date == date(2028, 6, 5)  # Sun 4 Jun → Mon 5 Jun
    # The hand-back call is recorded once.
    await press(sim_driver, people.csm, handback, channel, "baton_handback_held")
    assert containing(channel, "Hand-back call for *Acme Robotics* held")
    await press(sim_driver, people.csm, handback, channel, "baton_handback_held")
    assert any("already recorded" in e.text for e in sandbox.workspace.ephemerals)


async def test_renewed_by_command_with_date_and_arr(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    eph = sandbox.workspace.ephemerals
    await sim_driver.command(people.manager, "renewed Acme Robotics 2027-13-01")
    assert "not a real date" in eph[-1].text
    await sim_driver.command(people.manager, "renewed Acme Robotics 2027-06-01")
    assert "after the current one" in eph[-1].text
    await sim_driver.command(people.manager, "renewed Nobody Inc")
    assert "no account matching" in eph[-1].text
    outsider = sandbox.workspace.add_user("olga", "Olga N", "olga@example.test", "UTC")
    await sim_driver.command(outsider, "renewed acme robotics")
    assert "Only Acme Robotics's AE, CSM, AM or a manager" in eph[-1].text
    await sim_driver.command(people.manager, "renewed acme robotics 2029-01-31 120k")
    channel = account_channel(sandbox.workspace)
    assert bool(containing(channel, "Acme Robotics renewed"))
    account = sim_bot.services.db.run_sync(get_account, sandbox.workspace.team_id, account_id)
    assert (account.renewal_date, account.arr) == (date(2029, 1, 31), 120000)


async def test_churned_records_the_reason_and_cancels_every_pending_nudge(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    await leap(sim_bot, clock, datetime(2027, 5, 28, 0, tzinfo=UTC))  # month 5 is owed now
    channel = account_channel(sandbox.workspace)
    await sim_driver.command(people.csm, "churned", channel=channel)
    view = opened_view(sandbox.workspace, people.csm.id)
    reply = await sim_driver.submit(people.csm, view, {})
    assert "reason" in reply.json["errors"]
    await sim_driver.submit(people.csm, view, {"reason": "product_fit", "note": "Needed on-prem"})
    assert containing(channel, "churned on")
    assert "root cause: Product fit" in containing(channel, "churned on")[0].text
    with session_scope(sim_bot.services.engine) as session:
        pending = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == account_id, OutboxMessage.status == "pending"
            )
        ).all()
    assert pending == []
    before = sum(len(c.messages) for c in sandbox.workspace.channels.values())
    await run_until(sim_bot, clock, datetime(2027, 6, 12, 0, tzinfo=UTC), timedelta(hours=2))
    assert sum(len(c.messages) for c in sandbox.workspace.channels.values()) == before
    await sim_driver.command(people.csm, "renewed acme robotics")
    assert "already recorded as churned" in sandbox.workspace.ephemerals[-1].text


async def test_a_tiered_account_crossing_the_threshold_switches_owner_with_notice(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    team = sandbox.workspace.team_id
    sim_bot.services.db.run_sync(
        update_account, team, account_id, retention_model="D", immediate=True
    )
    await run_until(sim_bot, clock, clock() + timedelta(hours=1))
    before = milestones(sim_bot, sandbox, account_id, date(2028, 1, 4))
    assert before["day-90"].owners == ["ae", "csm"]  # 80,000 ≥ 75,000: the B side
    reply = await closed_won(sim_driver, deal(**YEAR, arr=60000))
    assert reply.json["updated"] == ["arr"]
    for place in (
        account_channel(sandbox.workspace),
        dm(sandbox, people.ae),
        dm(sandbox, people.csm),
    ):
        (notice,) = containing(place, "across the 75,000 threshold")
        assert "now runs as A (clean handoff)" in notice.text
    after = milestones(sim_bot, sandbox, account_id, date(2028, 1, 4))
    assert after["day-90"].owners == ["csm"] and after["day-30"].owners == ["csm", "ops"]
    # A change that stays on one side says nothing more.
    await closed_won(sim_driver, deal(**YEAR, arr=50000))
    assert len(containing(account_channel(sandbox.workspace), "threshold")) == 1


async def test_a_time_zone_change_moves_what_is_still_owed(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    await leap(sim_bot, clock, datetime(2027, 5, 25, 0, tzinfo=UTC))  # month 5 owed (Fri 4 Jun)
    people.csm.tz = "America/Chicago"
    user = people.csm.as_json(sandbox.workspace.clock())
    assert (await sim_driver.event({"type": "user_change", "user": user})).status == 200
    await run_until(sim_bot, clock, datetime(2027, 6, 4, 16, tzinfo=UTC))
    (nudge,) = nudges(dm(sandbox, people.csm), "Month-5 health flag")
    assert nudge.at == datetime(2027, 6, 4, 14, tzinfo=UTC)  # 09:00 Chicago (CDT)


async def test_after_downtime_only_the_newest_overdue_milestone_goes_out_late(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    # Down from 4 Jan to Thursday 25 Nov, 02:00 New York: day 45 (Sat 20 Nov → Fri 19 Nov)
    # and its predecessors are overdue; the newest is the signature push, for the AE.
    await leap(sim_bot, clock, datetime(2027, 11, 25, 7, tzinfo=UTC))
    ae_dm = dm(sandbox, people.ae)
    assert containing(ae_dm, "Late:") == []  # nothing at 02:00 local
    await run_until(sim_bot, clock, datetime(2027, 11, 25, 18, tzinfo=UTC))
    late = containing(ae_dm, "Late:")
    assert [m.at for m in late] == [datetime(2027, 11, 25, 14, tzinfo=UTC)]  # 09:00 NY
    shown = json.dumps(late[0].blocks)
    assert "Signature push" in late[0].text and "due on Fri 19 Nov 2027" in shown
    assert "Negotiation (due 21 Oct)" in shown and "Business review" in shown
    rows = milestones(sim_bot, sandbox, account_id, date(2028, 1, 4))
    assert rows["day-45"].status == "open"
    assert {rows[k].status for k in ("month-5", "day-120", "day-90", "day-75")} == {"skipped"}
    # The CSM is sent nothing for the skipped steps; the channel hears only the late one.
    assert not any("health flag" in m.text for m in dm(sandbox, people.csm).messages)
    assert len(containing(account_channel(sandbox.workspace), "Renewal milestone")) == 1
    # The manager's escalation counts from when the nudge really went out.
    await run_until(sim_bot, clock, datetime(2027, 12, 1, 0, tzinfo=UTC), timedelta(hours=1))
    (told,) = containing(dm(sandbox, people.manager), "Nobody has acknowledged *Signature push*")
    assert told.at == datetime(2027, 11, 30, 17, tzinfo=UTC)  # Fri, Mon pass: Tue 09:00 LA


async def test_a_nudge_owed_before_the_upgrade_is_still_caught_up_after_downtime(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    # Monday 8 Nov: the steps up to day 75 go out (late), day 45 (Fri 19 Nov) is owed.
    await leap(sim_bot, clock, datetime(2027, 11, 8, 12, tzinfo=UTC))
    await run_until(sim_bot, clock, datetime(2027, 11, 9, 0, tzinfo=UTC))
    ae_dm = dm(sandbox, people.ae)
    assert containing(ae_dm, "Signature push") == []
    upgraded_from_0009(sim_bot.services.engine)
    # Down from 9 Nov to Thursday 25 Nov, 02:00 New York: the owed day-45 nudge is late.
    await leap(sim_bot, clock, datetime(2027, 11, 25, 7, tzinfo=UTC))
    assert containing(ae_dm, "Signature push") == []  # nothing at 02:00 local
    await run_until(sim_bot, clock, datetime(2027, 12, 1, 0, tzinfo=UTC), timedelta(hours=1))
    (late,) = containing(ae_dm, "Signature push")
    assert late.at == datetime(2027, 11, 25, 14, tzinfo=UTC)  # 09:00 NY, labelled late
    assert "Late:" in late.text and "due on Fri 19 Nov 2027" in json.dumps(late.blocks)
    # Its escalation was found by its round and moved with it.
    (told,) = containing(dm(sandbox, people.manager), "Nobody has acknowledged *Signature push*")
    assert told.at == datetime(2027, 11, 30, 17, tzinfo=UTC)


async def test_after_downtime_past_the_renewal_date_nothing_is_sent(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await open_account(sim_driver, sim_bot, clock)
    seen = {m.ts for c in sandbox.workspace.channels.values() for m in c.messages}
    await leap(sim_bot, clock, datetime(2028, 1, 6, 12, tzinfo=UTC))
    await run_until(sim_bot, clock, datetime(2028, 1, 7, 20, tzinfo=UTC))
    # Only the open packet gate still chases the AE (daily, at 09:00): no renewal
    # milestone, no stale escalation, no year-old kickoff reminder.
    assert [
        t
        for c in sandbox.workspace.channels.values()
        for m in c.messages
        if m.ts not in seen
        for t in [m.text]
        if not t.startswith("Reminder: the handoff packet")
    ] == []
