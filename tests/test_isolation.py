"""One bad account, one bad message or a refused token stops nothing else: the failure is
recorded with its team and id, retried with backoff, and shown by `/baton status`."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, text

from bot.admin.status import status_answer
from bot.outbox.tick import run_tick
from storage import outbox
from storage.accounts import account_by_crm, update_account
from storage.db import session_scope
from storage.kinds import MessageKind, SubjectType
from storage.models import Fault, Milestone, OutboxMessage, OutboxStatus
from storage.workspaces import get_workspace
from tests.helpers import closed_won, deal


def faults(engine) -> list[Fault]:  # noqa: ANN001
    with session_scope(engine) as session:
        return list(session.scalars(select(Fault).order_by(Fault.id)))


def reminders(sandbox, user, name: str) -> list[str]:  # noqa: ANN001
    return [
        m.text
        for m in sandbox.workspace.dm_channel(user.id).messages
        if m.text.startswith(f"Reminder: the handoff packet for {name}")
    ]


async def status_of(driver, sandbox, user) -> str:  # noqa: ANN001
    before = len(sandbox.workspace.ephemerals)
    await driver.command(user, "status")
    assert len(sandbox.workspace.ephemerals) > before
    return sandbox.workspace.ephemerals[-1].text


async def test_a_deal_dated_year_one_stops_only_itself(
    sim_driver, sim_bot, clock, sandbox, people, caplog
) -> None:
    engine, team = sim_bot.services.engine, sandbox.workspace.team_id
    db = sim_bot.services.db
    await closed_won(sim_driver, deal())
    await closed_won(sim_driver, deal(crm_id="G-1", account_name="Globex"))
    await run_tick(sim_bot.services)
    # Written before dates were bounded at the door: a row that makes date arithmetic fail.
    bad = db.run_sync(account_by_crm, team, "D-100")
    db.run_sync(
        update_account,
        team,
        bad.id,
        contract_start=date(1, 1, 1),
        renewal_date=date(1, 6, 1),
        plan_after=clock(),
        immediate=True,
    )
    caplog.set_level(logging.WARNING)
    clock.set(datetime(2027, 1, 5, 14, 5, tzinfo=UTC))  # Tuesday 09:05 in New York
    await run_tick(sim_bot.services)
    # Globex's morning reminder went out; the bad account's planning failed on its own.
    assert len(reminders(sandbox, people.ae, "Globex")) == 1
    (fault,) = faults(engine)
    assert (fault.team_id, fault.subject, fault.subject_id) == (team, "account", str(bad.id))
    assert fault.step == "plan_renewal" and "year 0 is out of range" in fault.error
    assert any(f"account {bad.id} of team {team}" in r.getMessage() for r in caplog.records), (
        "the log names the team and the account"
    )
    assert db.run_sync(account_by_crm, team, "D-100").plan_after == fault.retry_at
    # Backoff: not retried on the very next tick, retried (and counted) after it.
    await run_tick(sim_bot.services)
    assert faults(engine)[0].count == 1
    clock.advance(timedelta(minutes=2))
    await run_tick(sim_bot.services)
    (fault,) = faults(engine)
    assert fault.count == 2 and fault.retry_at == clock() + timedelta(minutes=2)
    # Operators see it; nobody else does.
    sim_bot.services.settings.baton_managers = people.manager.id
    status = await status_of(sim_driver, sandbox, people.manager)
    assert f"account *Acme Robotics* (id {bad.id}): plan_renewal failed 2 times" in status
    assert "year 0 is out of range" in status
    assert (await status_of(sim_driver, sandbox, people.csm)).startswith(
        "`/baton status` is for Baton's operators"
    )
    # Mended: the next planning succeeds and the problem is forgotten.
    db.run_sync(
        update_account,
        team,
        bad.id,
        contract_start=date(2027, 1, 4),
        renewal_date=date(2028, 1, 4),
        immediate=True,
    )
    clock.advance(timedelta(minutes=3))
    await run_tick(sim_bot.services)
    assert faults(engine) == []
    assert "none: every account and message is going through" in await status_of(
        sim_driver, sandbox, people.manager
    )


async def test_a_message_that_cannot_be_prepared_waits_and_the_rest_go(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    engine, team = sim_bot.services.engine, sandbox.workspace.team_id
    db = sim_bot.services.db
    account_id = (await closed_won(sim_driver, deal())).json["account_id"]

    def owed(key: str, kind: MessageKind = MessageKind.MESSAGE, **about) -> outbox.OwedMessage:
        return outbox.OwedMessage(
            team_id=team,
            dedupe_key=key,
            channel=people.csm.id,
            text=f"about {key}",
            due_at=clock(),
            kind=kind,
            account_id=account_id,
            **about,
        )

    # A milestone whose stored owners are not a list (JSON null): judging whether its
    # nudge is moot raises, every time it is tried.
    account = db.run_sync(account_by_crm, team, deal()["crm_id"])
    with session_scope(engine) as session:
        milestone = Milestone(
            team_id=team,
            account_id=account_id,
            renewal_date=account.renewal_date,
            key="not-in-the-playbook",
            title="Broken",
            due_date=clock().date() + timedelta(days=60),  # not nudged by the planner yet
            created_at=clock(),
        )
        session.add(milestone)
        session.flush()
        session.execute(
            text("UPDATE milestones SET owners = 'null' WHERE id = :id"), {"id": milestone.id}
        )
    bad = owed(
        f"ms-{milestone.id}-r0-nudge",
        MessageKind.MILESTONE_NUDGE,
        subject_type=SubjectType.MILESTONE,
        subject_id=str(milestone.id),
        milestone_id=milestone.id,
        round=0,
    )
    bad_id = db.run_sync(outbox.enqueue, bad)
    db.run_sync(outbox.enqueue, owed("fine"))
    report = await run_tick(sim_bot.services)
    assert [m.text for m in sandbox.workspace.dm_channel(people.csm.id).messages] == ["about fine"]
    assert bad_id in report.deferred
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, bad_id)
    assert row.status == OutboxStatus.PENDING and row.due_at == clock() + timedelta(minutes=1)
    assert faults(engine)[0].subject == "message"
    # Retried with backoff; after eight failures in a row it is given up, visibly.
    for _ in range(20):
        clock.advance(timedelta(hours=6))
        await run_tick(sim_bot.services)
    with session_scope(engine) as session:
        row = session.get(OutboxMessage, bad_id)
    assert row.status == OutboxStatus.FAILED


async def test_a_refused_token_pauses_delivery_until_it_works_again(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    engine, team = sim_bot.services.engine, sandbox.workspace.team_id
    db = sim_bot.services.db
    for key in ("one", "two", "three"):
        db.run_sync(
            outbox.enqueue,
            outbox.OwedMessage(
                team_id=team, dedupe_key=key, channel=people.csm.id, text=key, due_at=clock()
            ),
        )
    sandbox.workspace.revoke_token("token_revoked")
    report = await run_tick(sim_bot.services)
    assert report.failed == [] and report.sent == []
    workspace = db.run_sync(get_workspace, team)
    assert workspace.paused_at is not None and workspace.paused_error == "token_revoked"
    with session_scope(engine) as session:
        statuses = {r.status for r in session.scalars(select(OutboxMessage))}
    assert statuses == {OutboxStatus.PENDING}
    posts = len(sandbox.calls_of("chat.postMessage"))
    clock.advance(timedelta(minutes=1))
    await run_tick(sim_bot.services)  # paused: nothing is even tried
    assert len(sandbox.calls_of("chat.postMessage")) == posts
    # (Slack itself answers commands while the token is refused: Bolt cannot authorize.)
    sim_bot.services.settings.baton_managers = people.manager.id
    status = await status_answer(sim_bot.services, team, people.manager.id)
    assert "delivery is *paused*" in status and "token_revoked" in status
    sandbox.workspace.restore_token()  # the app is reinstalled: Slack takes the token again
    clock.advance(timedelta(minutes=5))
    report = await run_tick(sim_bot.services)
    assert len(report.sent) == 3
    assert db.run_sync(get_workspace, team).paused_at is None
    texts = [m.text for m in sandbox.workspace.dm_channel(people.csm.id).messages]
    assert sorted(texts) == ["one", "three", "two"]
