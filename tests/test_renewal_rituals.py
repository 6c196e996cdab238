"""The playbook's rituals and tiers through the sandbox on a simulated clock: the monthly
check-ins answered in one line, the handover checklists and Ask for more, and the
quarterly business reviews of the top tier, planned once per batch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, insert, select
from sqlmodel import Session

from bot.accounts.tiers import FRESH_FOR
from bot.outbox.planning import plan_due
from bot.platform.services import Services
from bot.platform.settings import Settings
from bot.runtime.runner import make_services
from storage.accounts import update_account
from storage.milestones import cycle_milestones
from storage.models import Account, Milestone, Person
from tests.helpers import (
    account_channel,
    ask,
    containing,
    dm,
    nudges,
    open_account,
    opened_view,
    press,
    run_until,
)

# Signed Monday 4 Jan 2027 (the clock's start), renewing Tuesday 4 Jan 2028: the handoff
# window runs to Wednesday 3 Feb, so month 1's rituals (Thursday 4 Feb) are the first.


def milestones(bot, sandbox, account_id: int, renewal: date) -> dict[str, Milestone]:  # noqa: ANN001
    rows = bot.services.db.run_sync(
        cycle_milestones, sandbox.workspace.team_id, account_id, renewal
    )
    return {m.key: m for m in rows}


def escalations(sandbox, people) -> list[str]:  # noqa: ANN001
    return [m.text for m in dm(sandbox, people.manager).messages if "Nobody has" in m.text]


async def test_monthly_rituals_are_answered_in_one_line_and_never_escalate(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    account_id = await open_account(sim_driver, sim_bot, clock)
    planned = milestones(sim_bot, sandbox, account_id, date(2028, 1, 4))
    assert "ae-checkin-m0" not in planned and "csm-health-m0" not in planned  # the window
    assert {f"ae-checkin-m{m}" for m in range(1, 6)} <= set(planned)
    assert planned["csm-health-m3"].owners == ["csm"]
    await run_until(sim_bot, clock, datetime(2027, 2, 4, 20, tzinfo=UTC))
    ae_dm, channel = dm(sandbox, people.ae), account_channel(sandbox.workspace)
    (nudge,) = nudges(ae_dm, "AE relationship check-in")
    assert nudge.at == datetime(2027, 2, 4, 14, tzinfo=UTC)  # 09:00 New York
    assert len(nudges(dm(sandbox, people.csm), "CSM health check")) == 1
    assert not containing(channel, "Renewal milestone: AE relationship check-in")

    await press(sim_driver, people.ae, nudge, ae_dm, "baton_milestone_done")
    view = opened_view(sandbox.workspace, people.ae.id)
    (line,) = [b["element"] for b in view.view["blocks"] if b["type"] == "input"]
    assert line["multiline"] is False and line["max_length"] == 300
    assert "outcome" in (await sim_driver.submit(people.ae, view, {})).json["errors"]
    await sim_driver.submit(people.ae, view, {"outcome": "Lunch with Priya: happy, wants SSO."})
    (posted,) = containing(channel, "*AE relationship check-in* for *Acme Robotics* done by")
    assert posted.text.endswith("Lunch with Priya: happy, wants SSO.")
    done = milestones(sim_bot, sandbox, account_id, date(2028, 1, 4))["ae-checkin-m1"]
    assert (done.status, done.outcome) == ("done", "Lunch with Priya: happy, wants SSO.")

    # The CSM never answers: no manager hears of it, but the week and the account say so.
    await run_until(sim_bot, clock, datetime(2027, 2, 15, 16, tzinfo=UTC))
    assert not [t for t in escalations(sandbox, people) if "check" in t]
    week = await ask(sim_driver, people.manager, "week")
    assert "CSM health check" in week.split("Overdue", 1)[1]
    owner = await ask(sim_driver, people.manager, "owner acme")
    assert "*CSM health check* — due 04 Feb" in owner.split("*Overdue:*", 1)[1]
    assert "AE relationship check-in* — due" not in owner


async def test_the_expansion_handover_is_a_checklist_and_the_ae_can_ask_for_more(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    # Renewing Monday 19 Jul 2027: month 6 is Tuesday 19 Jan, two weeks out.
    account_id = await open_account(
        sim_driver, sim_bot, clock, contract_start="2026-07-19", renewal_date="2027-07-19"
    )
    await run_until(sim_bot, clock, datetime(2027, 1, 19, 12, tzinfo=UTC))
    csm_dm, ae_dm = dm(sandbox, people.csm), dm(sandbox, people.ae)
    (nudge,) = nudges(csm_dm, "Expansion handover")
    await press(sim_driver, people.csm, nudge, csm_dm, "baton_milestone_done")
    view = opened_view(sandbox.workspace, people.csm.id)
    boxes = next(b["element"] for b in view.view["blocks"] if b.get("block_id") == "checklist")
    assert [o["text"]["text"] for o in boxes["options"]] == [
        "Expansion documents",
        "Usage metrics",
        "Champion intel",
    ]
    assert "checklist" in (await sim_driver.submit(people.csm, view, {})).json["errors"]
    await sim_driver.submit(
        people.csm, view, {"checklist": ["0", "1"], "outcome": "In the shared drive."}
    )
    record = (
        "Handed over: Expansion documents, Usage metrics. Still to come: Champion intel. "
        "In the shared drive."
    )
    assert containing(account_channel(sandbox.workspace), record)
    row = milestones(sim_bot, sandbox, account_id, date(2027, 7, 19))["expansion-handover"]
    assert (row.status, row.outcome, row.done_by) == ("done", record, people.csm.id)
    (handed,) = containing(ae_dm, "handed you *Expansion handover*")

    # Asking for more is the AE's (the role it is handed to) or a manager's, not the CSM's.
    await press(sim_driver, people.csm, handed, ae_dm, "baton_milestone_ask_more")
    assert "belongs to its owners or a manager" in sandbox.workspace.ephemerals[-1].text
    await press(sim_driver, people.manager, handed, ae_dm, "baton_milestone_ask_more")
    assert opened_view(sandbox.workspace, people.manager.id).view["callback_id"] == (
        "baton_milestone_ask_more_view"
    )
    await press(sim_driver, people.ae, handed, ae_dm, "baton_milestone_ask_more")
    asking = opened_view(sandbox.workspace, people.ae.id)
    assert "ask" in (await sim_driver.submit(people.ae, asking, {})).json["errors"]
    await sim_driver.submit(people.ae, asking, {"ask": "The seat-usage export, please."})
    (more,) = containing(csm_dm, "asks for more on *Expansion handover*")
    assert more.text.endswith("The seat-usage export, please.")
    # The same line submitted twice reaches the CSM once.
    await sim_driver.submit(people.ae, asking, {"ask": "The seat-usage export, please."})
    assert len(containing(csm_dm, "asks for more")) == 1


async def test_an_account_planned_before_the_rituals_gets_them_on_its_next_planning(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    """Rows the playbook adds are created on the next planning; those already past are
    skipped, not sent late."""
    account_id = await open_account(sim_driver, sim_bot, clock)
    team, renewal = sandbox.workspace.team_id, date(2028, 1, 4)
    with Session(sim_bot.services.engine) as session, session.begin():
        for m in session.scalars(select(Milestone).where(Milestone.key.like("%-m%"))):
            session.delete(m)  # as if planned by the playbook before the rituals
    assert "ae-checkin-m1" not in milestones(sim_bot, sandbox, account_id, renewal)
    clock.advance(datetime(2027, 3, 10, 12, tzinfo=UTC) - clock())
    sim_bot.services.db.run_sync(
        update_account, team, account_id, plan_after=clock(), immediate=True
    )
    await run_until(sim_bot, clock, clock() + timedelta(hours=1))
    planned = milestones(sim_bot, sandbox, account_id, renewal)
    assert planned["ae-checkin-m1"].status == planned["ae-checkin-m2"].status == "skipped"
    assert planned["ae-checkin-m3"].status == "open"  # Mon 5 Apr
    assert nudges(dm(sandbox, people.ae), "AE relationship check-in") == []


# --- tiers, planned in batches ------------------------------------------------------------
NOW = datetime(2027, 1, 5, 14, tzinfo=UTC)


def _account(n: int, arr: int, team: str) -> dict:
    return {
        "team_id": team,
        "crm_id": f"D-{n}",
        "name": f"Customer {n}",
        "arr": arr,
        "currency": "USD",
        "contract_start": date(2026, 1, 4),
        "renewal_date": date(2027, 12, 6),  # month 1: Wed 6 Jan 2027; month 4: Tue 6 Apr
        "term_months": 12,
        "ae_email": "ae@example.test",
        "csm_email": "csm@example.test",
        "ae_user_id": "UAE",
        "csm_user_id": "UCSM",
        "manager_user_id": "UMGR",
        "channel_id": f"C{n:05}",
        "channel_name": f"acct-customer-{n}",
        "retention_model": "A",
        "status": "handed_off",
        "closed_at": datetime(2026, 1, 4, tzinfo=UTC),
        "provisioned_at": datetime(2026, 1, 4, tzinfo=UTC),
        "plan_after": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    }


@pytest.fixture
def services(settings: Settings, engine) -> Iterator[Services]:  # noqa: ANN001
    services = make_services(settings, lambda: NOW)
    yield services
    services.engine.dispose()


def _book(services: Services, arrs: list[int], first: int = 0, team: str = "T1") -> None:
    """Accounts due for planning, whose people Baton knows."""
    with services.engine.begin() as connection:
        if first == 0:
            connection.execute(
                insert(Person.__table__),
                [
                    {
                        "team_id": team,
                        "user_id": u,
                        "real_name": u,
                        "tz": "America/New_York",
                        "refreshed_at": NOW,
                        "outsider": False,
                    }
                    for u in ("UAE", "UCSM", "UMGR")
                ],
            )
        connection.execute(
            insert(Account.__table__),
            [_account(first + n, arr, team) for n, arr in enumerate(arrs)],
        )


def _qbrs(services: Services) -> dict[int, list[tuple[str, str]]]:
    with Session(services.engine) as session:
        rows = session.execute(
            select(Account.arr, Milestone.key, Milestone.status)
            .join(Account, Account.id == Milestone.account_id)
            .where(Milestone.key.like("qbr-%"))
            .order_by(Milestone.key)
        ).all()
    found: dict[int, list[tuple[str, str]]] = {}
    for arr, key, status in rows:
        found.setdefault(int(arr), []).append((key, status))
    return found


async def test_only_the_top_fifth_by_arr_gets_quarterly_business_reviews(services) -> None:  # noqa: ANN001
    _book(services, [n * 10_000 for n in range(1, 11)])  # ten accounts: 10k … 100k
    _book(services, [500_000], first=10)
    with services.engine.begin() as connection:  # a churned account does not count
        connection.execute(Account.__table__.update().where(Account.crm_id == "D-10").values(
            status="churned"))  # fmt: skip
    await plan_due(services, NOW)
    # The two largest of the ten live accounts.
    reviews = [("qbr-m1", "open"), ("qbr-m4", "open")]
    assert _qbrs(services) == {100_000: reviews, 90_000: reviews}
    # The 10k account grows past them all: once the ranking is FRESH_FOR old, the 90k one
    # leaves the top tier, its reviews are skipped; the grown one's are planned.
    with services.engine.begin() as connection:
        connection.execute(Account.__table__.update().where(Account.crm_id == "D-0").values(
            arr=1_000_000))  # fmt: skip
        connection.execute(Account.__table__.update().values(plan_after=NOW))
    await plan_due(services, NOW + FRESH_FOR / 2)
    # Ranked 2½ minutes ago: the cutoff is still 90k, which the grown account passes too.
    assert _qbrs(services) == {1_000_000: reviews, 100_000: reviews, 90_000: reviews}
    with services.engine.begin() as connection:
        connection.execute(Account.__table__.update().values(plan_after=NOW))
    await plan_due(services, NOW + FRESH_FOR)
    skipped = [("qbr-m1", "skipped"), ("qbr-m4", "skipped")]
    assert _qbrs(services) == {1_000_000: reviews, 100_000: reviews, 90_000: skipped}


async def test_planning_cost_stays_flat_with_tiers(services) -> None:  # noqa: ANN001
    """The tiers take at most one query per batch, whatever its size and its teams: a batch
    of 30 accounts runs as many statements as a batch of 10; a team ranked in the last
    FRESH_FOR is not ranked again."""

    async def statements(books: dict[str, int], first: int = 0) -> list[str]:
        for team, count in books.items():
            _book(services, [n * 1_000 for n in range(1, count + 1)], first, team)
        seen: list[str] = []

        def listener(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(services.engine, "before_cursor_execute", listener)
        await plan_due(services, NOW)
        event.remove(services.engine, "before_cursor_execute", listener)
        return seen

    small, large = await statements({"T1": 10}), await statements({"T2": 30})
    assert len(small) == len(large)
    assert sum("row_number() OVER" in s for s in large) == 1
    two_teams = await statements({"T3": 10, "T4": 10})
    assert sum("row_number() OVER" in s for s in two_teams) == 1
    again = await statements({"T4": 5}, first=100)  # ranked a moment ago
    assert sum("row_number() OVER" in s for s in again) == 0
