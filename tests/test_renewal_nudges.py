"""Renewal milestones through the sandbox on a simulated clock: nudges, buttons, escalation."""

import json
from datetime import UTC, datetime

from sqlalchemy import select

from storage.db import session_scope
from storage.kinds import MessageKind
from storage.milestones import cycle_milestones
from storage.models import OutboxMessage
from tests.helpers import (
    closed_won,
    deal,
    nudges,
    opened_view,
    press,
    run_until,
    upgraded_from_0009,
)

# Renewal on Monday 10 May 2027: day 120 is Sunday 10 Jan → Friday 8 Jan; month 5 and
# month 6 of this cycle were already past when the deal arrived (Monday 4 Jan).
RENEWAL = "2027-05-10"


async def start(sim_driver, sim_bot, clock, sandbox, **overrides):  # noqa: ANN001, ANN201
    reply = await closed_won(sim_driver, deal(renewal_date=RENEWAL, **overrides))
    assert reply.status == 202
    await run_until(sim_bot, clock, datetime(2027, 1, 8, 12, tzinfo=UTC))
    return reply.json["account_id"]


async def test_nudges_reach_the_owners_at_their_morning(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await start(sim_driver, sim_bot, clock, sandbox)
    csm_dm = sandbox.workspace.dm_channel(people.csm.id)
    (nudge,) = nudges(csm_dm, "Business review")
    assert nudge.at == datetime(2027, 1, 8, 9, tzinfo=UTC)  # 09:00 London, Friday
    assert "AE attends silent" in json.dumps(nudge.blocks)
    assert nudges(sandbox.workspace.dm_channel(people.ae.id), "Business review") == []
    statuses = {
        m.key: m.status
        for m in sim_bot.services.db.run_sync(
            cycle_milestones,
            sandbox.workspace.team_id,
            account_id,
            datetime(2027, 5, 10).date(),
        )
    }
    assert statuses["month-5"] == statuses["month-6"] == "skipped"


async def test_the_commercial_owner_follows_the_model(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await start(sim_driver, sim_bot, clock, sandbox)  # 80,000 ≥ 75,000: model B, the AE
    await run_until(sim_bot, clock, datetime(2027, 2, 10, 0, tzinfo=UTC))
    for user in (people.ae, people.csm):
        (day90,) = nudges(sandbox.workspace.dm_channel(user.id), "Renewal proposal meeting")
        assert day90.at.date() == datetime(2027, 2, 9).date()


async def test_snooze_moves_the_nudge_and_settles_the_old_round(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await start(sim_driver, sim_bot, clock, sandbox)
    csm_dm = sandbox.workspace.dm_channel(people.csm.id)
    (nudge,) = nudges(csm_dm, "Business review")
    await press(sim_driver, people.csm, nudge, csm_dm, "baton_milestone_snooze_3")
    assert any("Snoozed" in e.text for e in sandbox.workspace.ephemerals)
    assert "I'll nudge again Tue 12 Jan at 09:00" in sandbox.workspace.ephemerals[-1].text
    await run_until(sim_bot, clock, datetime(2027, 1, 20, 0, tzinfo=UTC))
    assert [m.at for m in nudges(csm_dm, "Business review")] == [
        datetime(2027, 1, 8, 9, tzinfo=UTC),
        datetime(2027, 1, 12, 9, tzinfo=UTC),
    ]
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    told = [m for m in manager_dm if "Nobody has acknowledged *Business review*" in m.text]
    # Only the second round can escalate: Tue 12 → Wed, Thu → Fri 15 Jan, 09:00 Los Angeles.
    assert [m.at for m in told] == [datetime(2027, 1, 15, 17, tzinfo=UTC)]


def subjects(engine) -> dict[str, tuple]:  # noqa: ANN001
    with session_scope(engine) as session:
        rows = session.scalars(select(OutboxMessage)).all()
        return {
            r.dedupe_key: (r.kind, r.status, r.subject_type, r.subject_id, r.milestone_id, r.round)
            for r in rows
        }


async def test_an_old_round_owed_before_the_upgrade_still_goes_moot(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await start(sim_driver, sim_bot, clock, sandbox)
    engine = sim_bot.services.engine
    written = subjects(engine)
    owed_escalations = [
        about
        for about in written.values()
        if about[:2] == (MessageKind.MILESTONE_ESCALATION, "pending") and about[5] == 0
    ]
    assert owed_escalations  # round 0's, owed for Wednesday
    upgraded_from_0009(engine)
    # The backfill reads from the keys exactly what Baton writes into the columns.
    assert subjects(engine) == written
    csm_dm = sandbox.workspace.dm_channel(people.csm.id)
    (nudge,) = nudges(csm_dm, "Business review")
    await press(sim_driver, people.csm, nudge, csm_dm, "baton_milestone_snooze_3")
    await run_until(sim_bot, clock, datetime(2027, 1, 20, 0, tzinfo=UTC))
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    told = [m for m in manager_dm if "Nobody has acknowledged *Business review*" in m.text]
    assert [m.at for m in told] == [datetime(2027, 1, 15, 17, tzinfo=UTC)]  # round 1's only


async def test_done_records_the_outcome_and_stops_everything(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await start(sim_driver, sim_bot, clock, sandbox)
    csm_dm = sandbox.workspace.dm_channel(people.csm.id)
    (nudge,) = nudges(csm_dm, "Business review")
    await press(sim_driver, people.ae, nudge, csm_dm, "baton_milestone_done")
    assert any("belongs to its owners" in e.text for e in sandbox.workspace.ephemerals)
    await press(sim_driver, people.csm, nudge, csm_dm, "baton_milestone_done")
    view = opened_view(sandbox.workspace, people.csm.id)
    assert "outcome" in (await sim_driver.submit(people.csm, view, {})).json["errors"]
    await sim_driver.submit(
        people.csm, view, {"outcome": "QBR held: ROI 3.1x, expansion menu sent."}
    )
    channel = sandbox.workspace.channels[
        next(c.id for c in sandbox.workspace.channels.values() if c.name == "acct-acme-robotics")
    ]
    assert any("done by" in m.text for m in channel.messages)
    await run_until(sim_bot, clock, datetime(2027, 1, 20, 0, tzinfo=UTC))
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    escalations = [m for m in manager_dm if not m.text.startswith("Your week from")]
    assert not any("Business review" in m.text for m in escalations)
    assert len(nudges(csm_dm, "Business review")) == 1


async def test_ignored_nudges_reach_the_manager_once(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await start(sim_driver, sim_bot, clock, sandbox)
    await run_until(sim_bot, clock, datetime(2027, 1, 20, 0, tzinfo=UTC))
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    told = [m for m in manager_dm if "Nobody has acknowledged *Business review*" in m.text]
    # Nudged Friday 8 Jan; Monday and Tuesday pass: Wednesday 09:00 in Los Angeles.
    assert [m.at for m in told] == [datetime(2027, 1, 13, 17, tzinfo=UTC)]


async def test_need_help_pings_the_manager_in_the_channel(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await start(sim_driver, sim_bot, clock, sandbox)
    csm_dm = sandbox.workspace.dm_channel(people.csm.id)
    (nudge,) = nudges(csm_dm, "Business review")
    await press(sim_driver, people.csm, nudge, csm_dm, "baton_milestone_help")
    channel = next(c for c in sandbox.workspace.channels.values() if c.name == "acct-acme-robotics")
    assert any("needs help" in m.text for m in channel.messages)
    assert f"<@{people.manager.id}>, can you step in?" in channel.messages[-1].text
    await press(sim_driver, people.csm, nudge, csm_dm, "baton_milestone_help")
    assert any("already asked" in e.text for e in sandbox.workspace.ephemerals)


async def test_a_moved_renewal_date_replans_without_resending(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    await start(sim_driver, sim_bot, clock, sandbox)  # day-120 nudged Friday 8 Jan
    csm_dm = sandbox.workspace.dm_channel(people.csm.id)
    assert len(nudges(csm_dm, "Business review")) == 1
    # The CRM moves the renewal a week later, to Monday 17 May.
    reply = await closed_won(sim_driver, deal(renewal_date="2027-05-17"))
    assert reply.json["updated"] == ["renewal_date"]
    await run_until(sim_bot, clock, datetime(2027, 2, 20, 0, tzinfo=UTC))
    # The business review had its turn: not nudged again for the new date.
    assert len(nudges(csm_dm, "Business review")) == 1
    # The expansion proposal follows the new date: day 105 before 17 May is Mon 1 Feb
    # (it was Mon 25 Jan before the move), and it is nudged once.
    expansion = nudges(csm_dm, "Expansion proposal")
    assert [m.at for m in expansion] == [datetime(2027, 2, 1, 9, tzinfo=UTC)]
