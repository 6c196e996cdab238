"""The packet gate over simulated days: reminders, escalation, restarts, the kickoff."""

from datetime import UTC, datetime

from bot.outbox.tick import run_tick
from bot.runtime.runner import BotServer
from tests.handoff_helpers import account_channel, closed_won, deal
from tests.helpers import opened_view, run_until
from tests.test_handoff_packet import AE_ANSWERS


def stamps(messages, fragment: str) -> list[datetime]:
    return [m.at for m in messages if fragment in m.text]


async def test_reminders_each_business_morning_then_the_manager_once(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    assert (await closed_won(sim_driver, deal())).status == 202
    await run_until(sim_bot, clock, datetime(2027, 1, 8, 23, tzinfo=UTC))
    ae_dm = sandbox.workspace.dm_channel(people.ae.id).messages
    # 09:00 New York = 14:00 UTC, Tuesday to Friday; nothing on Monday (the ask itself).
    assert stamps(ae_dm, "Reminder") == [datetime(2027, 1, d, 14, tzinfo=UTC) for d in (5, 6, 7, 8)]
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    # Two full business days (Tue, Wed) later: Thursday 09:00 in the manager's Los Angeles.
    assert stamps(manager_dm, "still not complete") == [datetime(2027, 1, 7, 17, tzinfo=UTC)]


async def test_weekends_are_quiet(sim_driver, sim_bot, clock, sandbox, people) -> None:
    clock.set(datetime(2027, 1, 8, 15, tzinfo=UTC))  # Friday
    assert (await closed_won(sim_driver, deal())).status == 202
    await run_until(sim_bot, clock, datetime(2027, 1, 11, 23, tzinfo=UTC))
    ae_dm = sandbox.workspace.dm_channel(people.ae.id).messages
    assert stamps(ae_dm, "Reminder") == [datetime(2027, 1, 11, 14, tzinfo=UTC)]


async def test_completion_stops_every_reminder(sim_driver, sim_bot, clock, sandbox, people) -> None:
    sim_bot.services.settings.baton_marketing_required = False
    await closed_won(sim_driver, deal())
    await run_until(sim_bot, clock, datetime(2027, 1, 5, 16, tzinfo=UTC))
    channel = account_channel(sandbox.workspace)
    request = next(m for m in channel.messages if "is due" in m.text)
    await sim_driver.click(
        people.ae,
        "baton_packet_open",
        value="1",
        block_id=request.blocks[-1]["block_id"],
        channel=channel,
        message_ts=request.ts,
    )
    view = await opened_view(sandbox.workspace, people.ae.id)
    await sim_driver.submit(people.ae, view, AE_ANSWERS)
    await run_until(sim_bot, clock, datetime(2027, 1, 15, 23, tzinfo=UTC))
    ae_dm = sandbox.workspace.dm_channel(people.ae.id).messages
    assert stamps(ae_dm, "Reminder") == [datetime(2027, 1, 5, 14, tzinfo=UTC)]
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    assert stamps(manager_dm, "still not complete") == []
    summary = next(m for m in channel.messages if "Acme Robotics is complete" in m.text)
    assert "Completed 1 day 1 h after close" in str(summary.blocks)


async def test_reminders_survive_a_restart_without_repeats(
    sim_driver, sim_bot, clock, sandbox, settings, people
) -> None:
    await closed_won(sim_driver, deal())
    await run_until(sim_bot, clock, datetime(2027, 1, 5, 20, tzinfo=UTC))
    await sim_bot.stop()
    restarted = BotServer(settings, clock, ticker=False)
    await restarted.start(host="127.0.0.1", port=0)
    try:
        await run_tick(restarted.services)  # the same instant again: nothing new
        await run_until(restarted, clock, datetime(2027, 1, 6, 20, tzinfo=UTC))
    finally:
        await restarted.stop()
    ae_dm = sandbox.workspace.dm_channel(people.ae.id).messages
    assert stamps(ae_dm, "Reminder") == [datetime(2027, 1, d, 14, tzinfo=UTC) for d in (5, 6)]


async def test_downtime_does_not_storm(sim_driver, sim_bot, clock, sandbox, people) -> None:
    await closed_won(sim_driver, deal())
    await run_tick(sim_bot.services)  # plans Tuesday's reminder
    clock.set(datetime(2027, 1, 8, 10, tzinfo=UTC))  # down from Monday to Friday 05:00 NY
    await run_until(sim_bot, clock, datetime(2027, 1, 8, 23, tzinfo=UTC))
    ae_dm = sandbox.workspace.dm_channel(people.ae.id).messages
    # The mornings missed while down are not made up at 05:00: Friday's goes out at 09:00.
    assert stamps(ae_dm, "Reminder") == [datetime(2027, 1, 8, 14, tzinfo=UTC)]


async def test_day_seven_kickoff_reminder_unless_held(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await closed_won(sim_driver, deal())
    await closed_won(sim_driver, deal(crm_id="D-2", account_name="Globex"))
    globex = account_channel(sandbox.workspace, "acct-globex")
    prompt_account = 2
    from bot.handoff import packet as packet_flow

    await run_tick(sim_bot.services)
    await packet_flow.kickoff_held(
        sim_bot.services, sandbox.workspace.team_id, prompt_account, people.csm.id
    )
    assert any("Kickoff held" in m.text for m in globex.messages)
    await run_until(sim_bot, clock, datetime(2027, 1, 12, 0, tzinfo=UTC))
    ae_dm = sandbox.workspace.dm_channel(people.ae.id).messages
    csm_dm = sandbox.workspace.dm_channel(people.csm.id).messages
    # Day 7 is Monday 11 Jan: 09:00 New York for the AE, 09:00 London for the CSM.
    assert stamps(ae_dm, "no kickoff has been logged") == [datetime(2027, 1, 11, 14, tzinfo=UTC)]
    assert stamps(csm_dm, "no kickoff has been logged") == [datetime(2027, 1, 11, 9, tzinfo=UTC)]
    assert all("Acme Robotics" in m.text for m in ae_dm if "no kickoff" in m.text)
