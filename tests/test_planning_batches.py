"""Planning in batches: two planners at once (two replicas) owe every message and every
milestone once, a unit that fails owes nothing and leaves its accounts due, and a batch
that fails as a whole is planned again account by account, the bad one alone recorded."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, func, insert, select
from sqlmodel import Session

from bot.outbox.faults import load_faults
from bot.outbox.planning import BATCH, plan_due
from bot.platform.batch import PlanBatch
from bot.platform.services import Services
from bot.platform.settings import Settings
from bot.runtime.runner import make_services
from storage.models import Account, Fault, Milestone, OutboxMessage, Person

NOW = datetime(2027, 1, 5, 14, tzinfo=UTC)  # Tuesday 09:00 in New York
WEEK = timedelta(days=7)
# Per new account: two gate reminders and the manager's escalation, two kickoff
# reminders, two check-in prompts, day 30 and the rating request.
OWED_PER_ACCOUNT = 9
PEOPLE = ("UAE", "UCSM", "UMGR")


def _account(n: int) -> dict:
    return {
        "team_id": "T1",
        "crm_id": f"D-{n}",
        "name": f"Customer {n}",
        "arr": 50_000,
        "currency": "USD",
        "contract_start": date(2027, 1, 4),
        "renewal_date": date(2028, 1, 4) + timedelta(days=n % 30),
        "term_months": 12,
        "ae_email": "ae@example.test",
        "csm_email": "csm@example.test",
        "ae_user_id": "UAE",
        "csm_user_id": "UCSM",
        "manager_user_id": "UMGR",
        "channel_id": f"C{n:05}",
        "channel_name": f"acct-customer-{n}",
        "retention_model": "A",
        "status": "handoff_pending",
        "closed_at": NOW - timedelta(days=1),
        "provisioned_at": NOW - timedelta(days=1),
        "plan_after": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }


def _book(services: Services, count: int) -> None:
    """`count` new accounts due for planning, whose people Baton knows."""
    with services.engine.begin() as connection:
        connection.execute(
            insert(Person.__table__),
            [
                {
                    "team_id": "T1",
                    "user_id": u,
                    "real_name": u,
                    "tz": "America/New_York",
                    "refreshed_at": NOW,
                    "outsider": False,
                }  # fmt: skip
                for u in PEOPLE
            ],
        )
        connection.execute(insert(Account.__table__), [_account(n) for n in range(count)])


@pytest.fixture
def replicas(settings: Settings, engine) -> Iterator[tuple[Services, Services]]:  # noqa: ANN001
    """Two processes' services on one database (each its own engine), at NOW."""
    pair = (make_services(settings, lambda: NOW), make_services(settings, lambda: NOW))
    yield pair
    for services in pair:
        services.engine.dispose()


def _owed(services: Services) -> Counter:
    with Session(services.engine) as session:
        return Counter(session.scalars(select(OutboxMessage.account_id)))


def _count(services: Services, model: type) -> int:
    with Session(services.engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _still_due(services: Services) -> int:
    with Session(services.engine) as session:
        return session.scalar(
            select(func.count()).select_from(Account).where(Account.plan_after <= NOW)
        )


async def test_two_planners_at_once_owe_everything_once(replicas) -> None:  # noqa: ANN001
    one, other = replicas
    accounts = BATCH + BATCH // 2  # more than one batch each
    _book(one, accounts)
    await asyncio.gather(plan_due(one, NOW), plan_due(other, NOW))
    owed = _owed(one)
    assert len(owed) == accounts and set(owed.values()) == {OWED_PER_ACCOUNT}
    with Session(one.engine) as session:
        per_account = Counter(session.scalars(select(Milestone.account_id)))
    assert len(per_account) == accounts and len(set(per_account.values())) == 1
    assert _still_due(one) == 0 and _count(one, Fault) == 0
    # Planning again (a retry, a third replica) owes nothing new.
    with one.engine.begin() as connection:
        connection.execute(Account.__table__.update().values(plan_after=NOW))
    statements: list[str] = []

    def record(_conn, _cursor, statement: str, *_args: object) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(other.engine, "before_cursor_execute", record)
    try:
        await plan_due(other, NOW)
    finally:
        event.remove(other.engine, "before_cursor_execute", record)
    assert _owed(one) == owed and _count(one, Milestone) == sum(per_account.values())
    # A cycle planned before is read, not written again.
    assert not [s for s in statements if s.lstrip().upper().startswith("INSERT INTO MILESTONES")]
    assert any("FROM milestones" in s for s in statements)


def _failing(_session: Session, _services: Services, _batch: PlanBatch) -> None:
    """A planner that fails the whole unit, after the others wrote their milestones."""
    raise RuntimeError("the unit fails")


async def test_a_unit_that_fails_owes_nothing_and_planning_again_owes_once(replicas) -> None:  # noqa: ANN001
    services, _ = replicas
    _book(services, 3)
    services.hooks.planners.append(_failing)
    await plan_due(services, NOW)
    assert _count(services, OutboxMessage) == 0 and _count(services, Milestone) == 0
    with Session(services.engine) as session:
        faults = list(session.scalars(select(Fault)))
        retry = {a.plan_after for a in session.scalars(select(Account))}
    assert sorted(f.step for f in faults) == ["planning"] * 3
    assert retry == {NOW + timedelta(minutes=1)}  # after the backoff, not at once
    services.hooks.planners.remove(_failing)
    later = NOW + timedelta(minutes=1)
    await load_faults(services)  # as every tick does first
    await plan_due(services, later)
    owed = _owed(services)
    assert len(owed) == 3 and set(owed.values()) == {OWED_PER_ACCOUNT}
    assert _count(services, Fault) == 0


def _one_bad(session: Session, _services: Services, batch: PlanBatch) -> None:
    """A planner whose query fails for one account: the whole unit with it."""
    if any(a.crm_id == "D-1" for a in batch.accounts):
        raise RuntimeError("D-1 cannot be planned")


async def test_a_batch_that_fails_is_planned_account_by_account(replicas) -> None:  # noqa: ANN001
    services, _ = replicas
    _book(services, 4)
    services.hooks.planners.append(_one_bad)
    await plan_due(services, NOW)
    owed = _owed(services)
    with Session(services.engine) as session:
        bad = session.scalars(select(Account).where(Account.crm_id == "D-1")).one()
        (fault,) = session.scalars(select(Fault))
    assert bad.id not in owed and len(owed) == 3 and set(owed.values()) == {OWED_PER_ACCOUNT}
    assert (fault.subject_id, fault.step) == (str(bad.id), "planning")
    assert "D-1 cannot be planned" in fault.error and bad.plan_after == fault.retry_at


def _units(services: Services) -> list[list[bool]]:
    """The units of work (transactions) begun on the services' database from now on, each
    marked True if it is the rate budget's (on PostgreSQL every Slack call takes one)."""
    begun: list[list[bool]] = []

    def began(connection) -> None:  # noqa: ANN001
        connection.info["baton_unit"] = [False]
        begun.append(connection.info["baton_unit"])

    def executes(connection, _cursor, statement: str, *_args) -> None:  # noqa: ANN001
        if "rate_buckets" in statement and "baton_unit" in connection.info:
            connection.info["baton_unit"][0] = True

    event.listen(services.engine, "begin", began)
    event.listen(services.engine, "before_cursor_execute", executes)
    return begun


async def test_what_slack_says_of_the_people_is_stored_in_one_unit(replicas, sandbox) -> None:  # noqa: ANN001
    """Planning asks Slack about everyone not heard of for a day, one users.info each, and
    stores all that it hears at once: the units a batch takes do not grow with its people."""
    ws = sandbox.workspace
    csm = ws.add_user("csm", "Chen Wei", "csm@x.test", "Europe/London")
    manager = ws.add_user("mgr", "Maya Patel", "mgr@x.test", "America/Los_Angeles")
    units = []
    for size in (2, 8):
        services = replicas[size == 8]
        with services.engine.begin() as connection:  # everyone known was heard of long ago
            connection.execute(Person.__table__.update().values(refreshed_at=NOW - WEEK))
        aes = [ws.add_user(f"ae{size}-{n}", f"AE {n}", f"ae{size}-{n}@x.test", "Europe/Paris")
               for n in range(size)]  # fmt: skip
        people = {"csm_user_id": csm.id, "manager_user_id": manager.id}
        rows = [_account(size * 100 + n) | people | {"ae_user_id": ae.id}
                for n, ae in enumerate(aes)]  # fmt: skip
        with services.engine.begin() as connection:
            connection.execute(insert(Account.__table__), rows)
        asked, owed = len(sandbox.calls_of("users.info")), len(_owed(services))
        begun = _units(services)
        await plan_due(services, NOW)
        units.append(sum(not budget for (budget,) in begun))
        assert len(sandbox.calls_of("users.info")) - asked == size + 2  # AEs, CSM, manager
        with Session(services.engine) as session:
            heard = {p.user_id: p for p in session.scalars(select(Person))}
        assert all(heard[u.id].refreshed_at == NOW for u in [*aes, csm, manager])
        assert len(_owed(services)) - owed == size  # each account planned, in its zones
    assert units[0] == units[1]
