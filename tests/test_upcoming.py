"""When the tick next has work (`bot.outbox.upcoming`): a tick before then finds nothing to
do, which is what lets `baton demo`'s simulated clock go straight to it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import event, select
from sqlmodel import Session, SQLModel

from bot.outbox.pause import CHECK_EVERY
from bot.outbox.reconcile import SEND_LEASE
from bot.outbox.tick import run_tick
from bot.outbox.upcoming import next_work
from bot.people.managers import REFRESH_EVERY
from bot.runtime.runner import BotServer
from storage.faults import FaultKey, record_fault
from storage.models import Account, OutboxMessage, OutboxStatus
from storage.upcoming import next_work_at
from storage.workspaces import note_pause_checked, pause_workspace, remember_workspace
from tests.helpers import NOT_DATA, closed_won, deal, dm

T0 = datetime(2027, 3, 1, 12, tzinfo=UTC)


def _world(bot, sandbox) -> tuple[dict[str, list[str]], int]:  # noqa: ANN001
    """Every row of Baton's data, and how many messages Slack holds."""
    with bot.services.db.engine.connect() as connection:
        rows = {
            table.name: sorted(map(repr, connection.execute(select(table))))
            for table in SQLModel.metadata.sorted_tables
            if table.name not in NOT_DATA
        }
    return rows, sum(len(c.messages) for c in sandbox.workspace.channels.values())


async def test_a_tick_before_the_next_work_changes_nothing(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    assert (await closed_won(sim_driver, deal())).status == 202
    end = clock() + timedelta(days=22)  # the handoff's reminders, check-ins, three digests
    quiet_ticks = 0
    while clock() < end:
        await run_tick(sim_bot.services)
        upcoming = await next_work(sim_bot.services)
        assert upcoming is None or upcoming > clock(), "a tick left work it could do at once"
        target = min(upcoming or end, end)
        if target - clock() > timedelta(seconds=1):
            clock.set(target - timedelta(seconds=1))
            before = _world(sim_bot, sandbox)
            await run_tick(sim_bot.services)
            assert _world(sim_bot, sandbox) == before, f"work was due before {target}"
            quiet_ticks += 1
        clock.set(target)
    digests = [m for m in dm(sandbox, people.manager).messages if "Your week from" in m.text]
    assert len(digests) == 3 and quiet_ticks > 20, quiet_ticks


async def test_a_paused_workspace_is_looked_at_again_after_its_pause(sim_bot, clock) -> None:
    db, team = sim_bot.services.db, "T0PAUSED"
    await run_tick(sim_bot.services)
    assert await next_work(sim_bot.services) is None  # nothing owed, planned or paused
    await db.run(remember_workspace, team, "Paused", None, clock())
    await db.run(pause_workspace, team, "token_revoked", clock())
    assert await next_work(sim_bot.services) == clock() + CHECK_EVERY
    clock.advance(timedelta(minutes=7))
    await db.run(note_pause_checked, team, clock())
    assert await next_work(sim_bot.services) == clock() + CHECK_EVERY


async def test_manager_groups_are_read_again_when_their_refresh_is_due(
    settings, clock, sandbox
) -> None:
    sandbox.workspace.add_usergroup("cs-leads", [])
    server = BotServer(
        settings.model_copy(update={"baton_managers": "@cs-leads"}), clock, ticker=False
    )
    await server.start(host="127.0.0.1", port=0)
    try:
        await run_tick(server.services)
        assert await next_work(server.services) == clock() + REFRESH_EVERY
    finally:
        await server.stop()


async def test_a_manager_joining_a_group_is_owed_a_digest_at_the_refresh(
    settings, clock, sandbox
) -> None:
    """Digest planning reads every manager again when the managers of every account
    changed, not only when a digest it knows is due."""
    group = sandbox.workspace.add_usergroup("cs-leads", [])
    server = BotServer(
        settings.model_copy(update={"baton_managers": "@cs-leads"}), clock, ticker=False
    )
    await server.start(host="127.0.0.1", port=0)
    try:
        await run_tick(server.services)
        lead = sandbox.workspace.add_user("lena", "Lena Ito", "lena@example.test", "Asia/Tokyo")
        group.users.append(lead.id)
        clock.advance(REFRESH_EVERY)
        await run_tick(server.services)
        with Session(server.services.engine) as session:
            owed = session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.channel == lead.id)
            ).all()
        assert owed and all(key.startswith(f"digest-{lead.id}-") for key in owed)
    finally:
        await server.stop()


def _account(**values: object) -> Account:
    return Account(
        team_id="T1",
        crm_id=str(values.pop("crm_id")),
        name="Acme",
        contract_start=date(2027, 1, 1),
        renewal_date=date(2028, 1, 1),
        ae_email="ae@example.test",
        csm_email="csm@example.test",
        closed_at=T0,
        **values,
    )


def _message(key: str, status: OutboxStatus, due_at: datetime, **values: object) -> OutboxMessage:
    return OutboxMessage(
        team_id="T1", dedupe_key=key, channel="C1", text="hi", status=status, due_at=due_at,
        **values,
    )  # fmt: skip


def test_the_next_work_is_the_earliest_of_every_kind(db) -> None:  # noqa: ANN001
    """Each kind of work in turn comes sooner than all before it, and is the answer."""
    lease = SEND_LEASE
    assert db.run_sync(next_work_at, lease) is None
    later = T0 + timedelta(days=30)
    sent = _message("sent", OutboxStatus.SENT, T0)  # done: never work again
    never_set_up = _account(crm_id="unset", plan_after=T0)  # the planner waits for its set-up
    sooner = [
        (_message("owed", OutboxStatus.PENDING, T0 + timedelta(days=9)), T0 + timedelta(days=9)),
        (_message("held", OutboxStatus.HELD, T0 + timedelta(days=8)), T0 + timedelta(days=8)),
        (
            _message("unknown", OutboxStatus.UNKNOWN, later, next_check_at=T0 + timedelta(days=7)),
            T0 + timedelta(days=7),
        ),
        (
            _message("sending", OutboxStatus.SENDING, later, claimed_at=T0 + timedelta(days=6)),
            T0 + timedelta(days=6) + lease,
        ),
        (
            _account(crm_id="plan", plan_after=T0 + timedelta(days=5), provisioned_at=T0),
            T0 + timedelta(days=5),
        ),
        (_account(crm_id="setup", setup_due_at=T0 + timedelta(days=4)), T0 + timedelta(days=4)),
    ]
    db.run_sync(lambda session: session.add_all([sent, never_set_up]))
    assert db.run_sync(next_work_at, lease) is None
    for row, expected in sooner:
        db.run_sync(lambda session, row=row: session.add(row))
        assert db.run_sync(next_work_at, lease) == expected, row
    key = FaultKey("T1", "account", "1", "planning")
    fault = db.run_sync(record_fault, key, "boom", T0 + timedelta(days=1))
    assert db.run_sync(next_work_at, lease) == fault.retry_at


async def test_a_tick_with_nothing_due_reads_once_then_claims_nothing(
    sim_driver, sim_bot, clock, sandbox
) -> None:
    """What the tick saw as it began skips the stages with nothing to do: a quiet tick is
    one read of what is due (with the failing steps and the paused workspaces) and
    delivery's claim, however many stages the features registered."""
    services = sim_bot.services
    assert (await closed_won(sim_driver, deal())).status == 202
    await run_tick(services)
    upcoming = await next_work(services)
    assert upcoming is not None and upcoming - clock() > timedelta(minutes=2)
    clock.advance(timedelta(minutes=1))
    before = _world(sim_bot, sandbox)
    units = 0

    def count(_connection: object) -> None:
        nonlocal units
        units += 1

    event.listen(services.engine, "begin", count)
    try:
        await run_tick(services)
    finally:
        event.remove(services.engine, "begin", count)
    assert units == 2
    assert _world(sim_bot, sandbox) == before
