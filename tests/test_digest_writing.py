"""The Monday digest is written into its outbox row by a tick stage once it falls due, so
that delivery only sends it: the words Slack gets are the ones the stage wrote."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session

from bot.outbox.tick import run_tick
from bot.ownership.digest import KIND, next_look, write_digests
from storage.models import Account, OutboxMessage
from tests.helpers import closed_won, deal, dm, run_until

MONDAY_8_LA = datetime(2027, 1, 11, 16, tzinfo=UTC)


def digest_rows(engine) -> list[OutboxMessage]:  # noqa: ANN001
    with Session(engine) as session:
        return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == KIND)))


def rows_by_due(engine) -> list[OutboxMessage]:  # noqa: ANN001
    return sorted(digest_rows(engine), key=lambda r: r.due_at)


async def test_a_due_digest_is_written_before_delivery_and_sent_as_written(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    services = sim_bot.services
    reply = await closed_won(
        sim_driver, deal(contract_start="2027-01-04", renewal_date="2028-01-04")
    )
    assert reply.status == 202
    await run_until(sim_bot, clock, MONDAY_8_LA - timedelta(hours=2))  # steps of an hour
    (owed,) = [r for r in digest_rows(services.engine) if r.status == "pending"]
    assert owed.blocks is None and owed.text == "Your Monday digest"
    assert await write_digests(services, MONDAY_8_LA - timedelta(minutes=1)) == 0  # not due
    assert await write_digests(services, MONDAY_8_LA) == 1
    (written,) = [r for r in digest_rows(services.engine) if r.id == owed.id]
    assert written.status == "pending" and written.blocks
    assert written.text.startswith("Your week from Mon 11 Jan")
    assert "handoff packet, 7 days after close" in written.text
    clock.set(MONDAY_8_LA)
    await run_tick(services)
    (sent,) = [m for m in dm(sandbox, people.manager).messages if "Your week from" in m.text]
    assert sent.text == written.text


async def test_next_mondays_digest_is_owed_as_this_one_falls_due(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    """Owed with this Monday's, next Monday's digest needs no wake-up of its own between the
    two (each week's planning rides on the tick that sends the digest)."""
    services = sim_bot.services
    reply = await closed_won(
        sim_driver, deal(contract_start="2027-01-04", renewal_date="2028-01-04")
    )
    assert reply.status == 202
    await run_until(sim_bot, clock, MONDAY_8_LA - timedelta(hours=2))
    week_before = MONDAY_8_LA - timedelta(days=7)  # the first Monday's (a quiet week)
    assert [(r.due_at, r.status) for r in rows_by_due(services.engine)] == [
        (week_before, "cancelled"),
        (MONDAY_8_LA, "pending"),
    ]
    clock.set(MONDAY_8_LA)
    await run_tick(services)
    assert [(r.due_at, r.status) for r in rows_by_due(services.engine)] == [
        (week_before, "cancelled"),
        (MONDAY_8_LA, "sent"),
        (MONDAY_8_LA + timedelta(days=7), "pending"),
    ]
    assert next_look(services) == MONDAY_8_LA + timedelta(days=7)


async def test_a_new_manager_is_owed_a_digest_at_the_tick_that_plans_the_account(
    sim_driver, sim_bot, clock, sandbox, workspace, people
) -> None:
    """Digest planning reads every manager only when a digest it knows is due; a manager
    it does not know comes with the account naming them, planned in this same tick."""
    services = sim_bot.services
    reply = await closed_won(
        sim_driver, deal(contract_start="2027-01-04", renewal_date="2028-01-04")
    )
    assert reply.status == 202
    await run_until(sim_bot, clock, MONDAY_8_LA - timedelta(hours=2))
    newcomer = workspace.add_user("lena", "Lena Ito", "lena@example.test", "Asia/Tokyo")
    with Session(services.engine) as session, session.begin():
        account = session.scalars(select(Account)).one()
        account.manager_user_id = newcomer.id  # as a reassignment does: planned again now
        account.plan_after = clock()
    await run_tick(services)
    owed = [r for r in digest_rows(services.engine) if r.channel == newcomer.id]
    # Monday 23:00 in Tokyo: today's digest, late, and next Monday's.
    assert sorted(r.dedupe_key for r in owed) == [
        f"digest-{newcomer.id}-2027-01-11",
        f"digest-{newcomer.id}-2027-01-18",
    ]
