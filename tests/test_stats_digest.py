"""The alerts in force reach the team's managers in their Monday digest: once a week, with
the number, its line, the accounts behind it and what to do; a week without one adds
nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from storage.accounts import account_by_crm
from storage.renewals import record_churn
from tests.helpers import closed_won, deal, dm, run_until


async def churn(sim_bot, team: str, clock, by: str, reasons: dict[str, str]) -> None:  # noqa: ANN001
    """Each account (by CRM id) churns today, for its reason."""
    for crm_id, reason in reasons.items():
        account = await sim_bot.services.db.run(account_by_crm, team, crm_id)
        assert account is not None
        await sim_bot.services.db.run(
            record_churn,
            team,
            account.id,
            reason=reason,
            effective=clock().date(),
            by=by,
            note=None,
            now=clock(),
            immediate=True,
        )


async def test_an_alert_in_force_is_in_the_managers_monday_digest(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    team = sandbox.workspace.team_id
    for n in range(6):
        reply = await closed_won(sim_driver, deal(crm_id=f"D-{n}", account_name=f"Account {n}"))
        assert reply.status == 202, reply.text
    reasons = {f"D-{n}": "expectation_mismatch" if n < 2 else "product_fit" for n in range(5)}
    await churn(sim_bot, team, clock, people.csm.id, reasons)
    await run_until(sim_bot, clock, datetime(2027, 1, 19, 0, tzinfo=UTC))
    digests = [m for m in dm(sandbox, people.manager).messages if "Your week from" in m.text]
    # Once a Monday (08:00 Los Angeles), each with the alerts still in force; the first
    # Monday's digest would have been dropped as a quiet week without them.
    assert [m.at for m in digests] == [
        datetime(2027, 1, 4, 16, tzinfo=UTC),
        datetime(2027, 1, 11, 16, tzinfo=UTC),
        datetime(2027, 1, 18, 16, tzinfo=UTC),
    ]
    for digest in digests:
        assert "Team health: the alerts (last 90 days)" in digest.text
        assert (
            "*Expectation mismatch:* 40% against a line of 20% (*Account 0*, *Account 1*)"
            in digest.text
        )
        assert "*Churn in the first 90 days:* 100% against a line of 40%" in digest.text


async def test_a_managers_app_home_shows_the_teams_health(
    sim_driver, sim_bot, sandbox, people
) -> None:
    import json

    assert (await closed_won(sim_driver, deal())).status == 202
    await sim_driver.open_home(people.manager)
    view = json.dumps(sandbox.workspace.home_views[people.manager.id], ensure_ascii=False)
    assert "*Team health (last 90 days)*" in view
    assert "Packets complete in time: no data yet" in view and "No alert in force." in view
    await sim_driver.open_home(people.ae)
    view = json.dumps(sandbox.workspace.home_views[people.ae.id], ensure_ascii=False)
    assert "Team health" not in view  # the AE manages nothing


async def test_the_digest_says_when_an_alert_has_cleared(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    from datetime import timedelta

    team = sandbox.workspace.team_id
    for n in range(6):
        reply = await closed_won(sim_driver, deal(crm_id=f"D-{n}", account_name=f"Account {n}"))
        assert reply.status == 202, reply.text
    # Five churns of mismatch, effective today: in force for 90 days, then out of the window.
    await churn(
        sim_bot, team, clock, people.csm.id, {f"D-{n}": "expectation_mismatch" for n in range(5)}
    )
    clock.advance(timedelta(days=91))  # the churns leave the 90-day window by next Monday
    await run_until(sim_bot, clock, clock() + timedelta(days=8))
    digests = [m for m in dm(sandbox, people.manager).messages if "Your week from" in m.text]
    cleared = [m for m in digests if "is back within its line" in m.text]
    assert len(cleared) == 1, "said once: the week it cleared, not after"
    assert "No alert in force." in cleared[0].text
    assert "*Expectation mismatch* is back within its line since last week." in cleared[0].text
    assert "Team health" not in digests[-1].text  # a week later nothing changed: no section


async def test_team_health_is_computed_once_for_every_manager_for_five_minutes(
    sim_driver, sim_bot, clock, sandbox, people
) -> None:
    import json
    from datetime import timedelta

    from bot.stats.health import FRESH_FOR

    team = sandbox.workspace.team_id
    for n in range(6):
        assert (await closed_won(sim_driver, deal(crm_id=f"D-{n}"))).status == 202
    await sim_driver.open_home(people.manager)
    await churn(sim_bot, team, clock, people.csm.id, {f"D-{n}": "economic" for n in range(5)})

    async def home() -> str:
        await sim_driver.open_home(people.manager)
        return json.dumps(sandbox.workspace.home_views[people.manager.id], ensure_ascii=False)

    clock.advance(FRESH_FOR - timedelta(seconds=1))
    assert "churns in the first 90 days: no data yet" in await home()  # as computed before
    clock.advance(timedelta(seconds=1))
    assert "churns in the first 90 days: 100% (5 of 5)" in await home()
