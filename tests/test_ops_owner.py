"""The Ops person of an account: where it comes from, the Ops steps it is nudged for (the
day-7 account confirmation, the day-30 contract logistics), and who stands in without one.

Through the sandbox on a simulated clock: the deal arrives Monday 4 Jan 2027 and renews
Monday 15 Feb 2027, so day 30 falls on Friday 15 Jan and day 7 on Monday 8 Feb."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from bot.platform.settings import ConfigError, load_settings
from storage.accounts import account_by_crm, get_account
from storage.db import make_engine, session_scope
from storage.migrate import downgrade, upgrade
from storage.milestones import cycle_milestones
from storage.models import Account, Packet
from tests.helpers import (
    account_channel,
    ask,
    closed_won,
    deal,
    nudges,
    opened_view,
    press,
    run_until,
)

RENEWAL = "2027-02-15"
DAY_30 = "Final redline and signature"
DAY_7 = "Account confirmation"


async def start(sim_driver, sim_bot, clock, until: datetime, **overrides) -> int:  # noqa: ANN001
    reply = await closed_won(sim_driver, deal(renewal_date=RENEWAL, **overrides))
    assert reply.status == 202, reply.text
    await run_until(sim_bot, clock, until)
    return reply.json["account_id"]


def text_of(message) -> str:  # noqa: ANN001
    return json.dumps(message.blocks, ensure_ascii=False)


async def test_the_ops_steps_go_to_the_accounts_ops_person(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    ws = sandbox.workspace
    oli = ws.add_user("oli", "Oli Ops", "oli@example.test", "Europe/Berlin")
    account_id = await start(
        sim_driver, sim_bot, clock, datetime(2027, 2, 9, tzinfo=UTC), ops_email=oli.email
    )
    account = sim_bot.services.db.run_sync(get_account, ws.team_id, account_id)
    assert (account.ops_email, account.ops_user_id) == ("oli@example.test", oli.id)
    assert oli.id in account_channel(ws).members
    welcome = next(m for m in account_channel(ws).messages if m.text.startswith("Welcome"))
    assert f"Ops: <@{oli.id}>." in text_of(welcome)

    oli_dm, csm_dm, ae_dm = (ws.dm_channel(p.id) for p in (oli, people.csm, people.ae))
    (confirm,) = nudges(oli_dm, DAY_7)
    assert confirm.at == datetime(2027, 2, 8, 8, tzinfo=UTC)  # 09:00 in Berlin
    assert f"<@{oli.id}> (Ops)" in text_of(confirm)
    assert "No Ops owner" not in text_of(confirm)
    assert nudges(csm_dm, DAY_7) == []  # the CSM no longer owns it
    # Day 30: the commercial owner (80,000 ≥ 75,000: model B, the AE) and Ops.
    (redline,) = nudges(oli_dm, DAY_30)
    assert len(nudges(ae_dm, DAY_30)) == 1 and nudges(csm_dm, DAY_30) == []
    assert "(AE)" in text_of(redline) and f"<@{oli.id}> (Ops)" in text_of(redline)
    channel_notes = [m for m in account_channel(ws).messages if DAY_7 in m.text]
    assert channel_notes and f"<@{oli.id}> (Ops)" in text_of(channel_notes[0])

    # The same buttons as any owner: Oli marks it done; the CSM, not an owner, may not.
    await press(sim_driver, people.csm, confirm, oli_dm, "baton_milestone_done")
    assert "belongs to its owners" in ws.ephemerals[-1].text
    await press(sim_driver, oli, confirm, oli_dm, "baton_milestone_done")
    view = opened_view(ws, oli.id)
    await sim_driver.submit(oli, view, {"outcome": "Billing and seats confirmed for 2027."})
    steps = sim_bot.services.db.run_sync(
        cycle_milestones, ws.team_id, account_id, date(2027, 2, 15)
    )
    done = next(m for m in steps if m.key == "day-7")
    assert (done.status, done.done_by, done.owners) == ("done", oli.id, ["ops"])


async def test_an_unanswered_ops_step_reaches_the_manager_naming_ops(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    oli = sandbox.workspace.add_user("oli", "Oli Ops", "oli@example.test", "Europe/Berlin")
    await start(sim_driver, sim_bot, clock, datetime(2027, 2, 12, tzinfo=UTC), ops_email=oli.email)
    manager_dm = sandbox.workspace.dm_channel(people.manager.id).messages
    told = [m for m in manager_dm if f"Nobody has acknowledged *{DAY_7}*" in m.text]
    assert len(told) == 1 and f"<@{oli.id}> (Ops)" in told[0].text


async def test_the_workspace_ops_people_stand_in_for_an_account_without_one(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    ws = sandbox.workspace
    first = ws.add_user("olga", "Olga Ops", "olga@example.test", "Europe/London")
    second = ws.add_user("omar", "Omar Ops", "omar@example.test", "Europe/London")
    sim_bot.services.settings.baton_ops_users = f"{first.id},{second.id}"
    await start(sim_driver, sim_bot, clock, datetime(2027, 2, 9, tzinfo=UTC))
    (confirm,) = nudges(ws.dm_channel(first.id), DAY_7)
    assert f"<@{first.id}> (Ops)" in text_of(confirm)
    assert nudges(ws.dm_channel(second.id), DAY_7) == []  # the first one owns the steps
    assert nudges(ws.dm_channel(people.csm.id), DAY_7) == []
    said = await ask(sim_driver, people.manager, "owner acme")
    assert f"*Ops:* <@{first.id}> (the workspace's Ops; also <@{second.id}>)" in said
    # They act as Ops on it: their Snooze is taken.
    await press(sim_driver, first, confirm, ws.dm_channel(first.id), "baton_milestone_snooze_1")
    assert "nudge again" in ws.ephemerals[-1].text


async def test_without_any_ops_person_the_csm_gets_the_step_and_is_told_why(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    ws = sandbox.workspace
    await start(sim_driver, sim_bot, clock, datetime(2027, 2, 9, tzinfo=UTC))
    csm_dm = ws.dm_channel(people.csm.id)
    (confirm,) = nudges(csm_dm, DAY_7)
    assert "No Ops owner is set for *Acme Robotics*" in text_of(confirm)
    assert "no Ops owner set (the CSM stands in)" in text_of(confirm)
    # Day 30 under model B: the AE, and the CSM for Ops (never nobody).
    assert len(nudges(csm_dm, DAY_30)) == 1
    said = await ask(sim_driver, people.csm, "owner acme")
    assert "*Ops:* none set; the CSM gets the Ops steps." in said
    await press(sim_driver, people.csm, confirm, csm_dm, "baton_milestone_snooze_1")
    assert "nudge again" in ws.ephemerals[-1].text


async def test_an_ops_person_named_later_takes_the_step_over(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    """The CSM's stand-in nudge goes moot once the account has an Ops person of its own."""
    ws = sandbox.workspace
    oli = ws.add_user("oli", "Oli Ops", "oli@example.test", "Europe/London")
    await start(sim_driver, sim_bot, clock, datetime(2027, 1, 26, tzinfo=UTC))
    said = await ask(sim_driver, people.manager, f"assign acme ops <@{oli.id}>")
    assert said.startswith("Done:") and "Ops of Acme Robotics" in said
    await run_until(sim_bot, clock, datetime(2027, 2, 9, tzinfo=UTC))
    assert len(nudges(ws.dm_channel(oli.id), DAY_7)) == 1
    assert nudges(ws.dm_channel(people.csm.id), DAY_7) == []


async def test_only_a_manager_or_an_admin_changes_the_ops_person(
    driver, sandbox, bot, people
) -> None:
    ws = sandbox.workspace
    oli = ws.add_user("oli", "Oli Ops", "oli@example.test")
    reply = await closed_won(driver, deal())
    said = await ask(driver, people.ae, f"assign acme ops <@{oli.id}>")
    assert said.startswith("Only a manager or a workspace admin can reassign accounts.")
    account = bot.services.db.run_sync(get_account, ws.team_id, reply.json["account_id"])
    assert account.ops_user_id is None
    said = await ask(driver, people.manager, f"assign acme ops <@{oli.id}>")
    assert said.startswith("Done:")
    account = bot.services.db.run_sync(get_account, ws.team_id, reply.json["account_id"])
    assert (account.ops_user_id, account.ops_email) == (oli.id, oli.email)
    assert "*Ops:* <@" + oli.id + ">" in await ask(driver, people.ae, "owner acme")


async def test_a_crm_update_changes_the_ops_person(driver, sandbox, bot, people) -> None:
    ws = sandbox.workspace
    oli = ws.add_user("oli", "Oli Ops", "oli@example.test")
    ora = ws.add_user("ora", "Ora Ops", "ora@example.test")
    reply = await closed_won(driver, deal(ops_email=oli.email))
    again = await closed_won(driver, deal(ops_email=ora.email))
    assert again.json["updated"] == ["ops_email"]
    channel = account_channel(ws)
    assert any("• Ops: oli@example.test → ora@example.test" in m.text for m in channel.messages)
    account = bot.services.db.run_sync(get_account, ws.team_id, reply.json["account_id"])
    assert account.ops_email == ora.email


@pytest.mark.parametrize("value", ["ops-team", "U0123ABCD,@ops"])
def test_bad_ops_users_stop_the_start_with_one_sentence(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, baton_ops_users=value)
    message = str(raised.value)
    assert message.startswith("BATON_OPS_USERS expects comma-separated Slack user ids")
    assert message.count(". ") == 0 and message.endswith(".")


def test_ops_users_keep_their_order() -> None:
    settings = load_settings(None, baton_ops_users=" U0B2, U0A1 ,")
    assert settings.ops_users == ("U0B2", "U0A1")


async def test_baton_new_takes_an_optional_ops_person(driver, sandbox, bot, people) -> None:
    ws = sandbox.workspace
    oli = ws.add_user("oli", "Oli Ops", "oli@example.test")
    bot.services.settings.baton_managers = people.manager.id
    form = {"account_name": "Globex", "crm_id": "G-1", "arr": "20000"}
    form |= {"ae": people.ae.id, "csm": people.csm.id}
    for crm_id, ops in (("G-1", oli.id), ("G-2", None)):
        await driver.command(people.manager, "new")
        view = opened_view(ws, people.manager.id)
        blocks = {b.get("block_id"): b for b in view.view["blocks"]}
        assert blocks["ops"]["optional"] is True
        assert blocks["ops"]["element"]["type"] == "users_select"
        chosen = form | {"crm_id": crm_id, "account_name": f"Globex {crm_id}"}
        reply = await driver.submit(people.manager, view, chosen | ({"ops": ops} if ops else {}))
        assert reply.status == 200 and not reply.text, reply.text
    db = bot.services.db
    with_ops = db.run_sync(account_by_crm, ws.team_id, "G-1")
    without = db.run_sync(account_by_crm, ws.team_id, "G-2")
    assert (with_ops.ops_email, with_ops.ops_user_id) == (oli.email, oli.id)
    assert oli.id in ws.channel_by_name("acct-globex-g-1").members
    assert (without.ops_email, without.ops_user_id) == (None, None)


def test_the_upgrade_reopens_only_unfinished_ae_parts_without_skeptics(
    blank_database_url: str,
) -> None:
    """Complete packets keep their gate (passed under the old rule); an unfinished one whose
    AE part lacks skeptics is owed by the AE again, so it can still complete."""
    engine = make_engine(blank_database_url)
    upgrade(engine)
    now = datetime(2027, 1, 4, tzinfo=UTC)
    cases = {"D-1": (False, None), "D-2": (True, None), "D-3": (False, "none identified")}
    with session_scope(engine) as session:
        for crm_id, (complete, skeptics) in cases.items():
            account = Account(
                team_id="T1",
                crm_id=crm_id,
                name=crm_id,
                contract_start=date(2027, 1, 4),
                renewal_date=date(2028, 1, 4),
                ae_email="ana@example.test",
                csm_email="chen@example.test",
                closed_at=now,
                packet_completed_at=now if complete else None,
            )
            session.add(account)
            session.flush()
            answers = {"goal": "Forecast renewals."} | ({"skeptics": skeptics} if skeptics else {})
            session.add(
                Packet(team_id="T1", account_id=account.id, answers=answers, ae_part_at=now)
            )
    downgrade(engine, "0017")
    upgrade(engine)
    with session_scope(engine) as session:
        rows = session.execute(
            select(Account.crm_id, Packet.ae_part_at).join(Packet, Packet.account_id == Account.id)
        ).all()
    reopened = {crm_id: part_at is None for crm_id, part_at in rows}
    assert reopened == {"D-1": True, "D-2": False, "D-3": False}
    engine.dispose()
