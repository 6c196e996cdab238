"""The CRM sync: what changed in HubSpot or Salesforce reaches Baton without a webhook,
and an older change never overwrites a newer one."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.crm.sync import sync_crm
from bot.runtime.cli import main
from bot.sandbox.hubspot import HubSpotSandbox
from storage.crm import sync_state
from tests.test_crm_hubspot_door import Door, Hub, new_deal
from tests.test_crm_hubspot_door import door as door  # noqa: F401 (fixtures)
from tests.test_crm_hubspot_door import hub as hub  # noqa: F401
from tests.test_crm_salesforce_doors import Doors, Org, won_opportunity
from tests.test_crm_salesforce_doors import doors as doors  # noqa: F401
from tests.test_crm_salesforce_doors import sf as sf  # noqa: F401

LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


async def closed_won(door: Door) -> str:
    hub: Hub = door.hub
    deal_id = new_deal(hub)
    events = hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    assert (await door.post(events))[0] == 200
    return deal_id


async def test_a_change_whose_webhook_was_lost_arrives_with_the_next_pass(door: Door) -> None:
    services, hub = door.bot.services, door.hub
    deal_id = await closed_won(door)
    hub.api.change_deal(hub.portal.id, deal_id, {"renewal_date": "2028-03-31", "amount": "60000"})
    report = await sync_crm(services, "hubspot", door.team, LONG_AGO)
    assert report.error is None and report.counts() == {"updated": 1}
    account = await door.account(deal_id)
    assert account is not None
    assert (str(account.renewal_date), str(account.arr)) == ("2028-03-31", "60000.00")
    state = await services.db.run(sync_state, door.team, "hubspot")
    modified = hub.api.deal(hub.portal.id, deal_id).modified
    in_ms = modified.replace(microsecond=modified.microsecond // 1000 * 1000)  # as HubSpot says
    assert state is not None and state.synced_until == in_ms
    again = await sync_crm(services, "hubspot", door.team)  # from where the last pass got to
    assert again.since == state.synced_until and again.counts() == {"unchanged": 1}


async def test_an_older_change_never_overwrites_a_newer_one(door: Door) -> None:
    services, hub = door.bot.services, door.hub
    deal_id = await closed_won(door)
    newer = hub.api.deal(hub.portal.id, deal_id).modified
    # HubSpot's search index lags: the pass reads the deal as it was an hour before.
    hub.api.change_deal(hub.portal.id, deal_id, {"amount": "1"}, at=newer - timedelta(hours=1))
    report = await sync_crm(services, "hubspot", door.team, LONG_AGO)
    assert report.counts() == {"unchanged": 1}
    account = await door.account(deal_id)
    assert account is not None and str(account.arr) == "48000.00"


async def test_a_won_deal_never_sent_is_created_by_the_sync(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub, "closedwon")
    report = await sync_crm(door.bot.services, "hubspot", door.team, LONG_AGO)
    assert report.counts() == {"created": 1}
    assert await door.account(deal_id) is not None


async def test_a_refused_token_stops_the_pass_and_says_so_in_status(door: Door) -> None:
    from bot.admin.status import status_lines

    door.hub.api.revoke_token(door.hub.token)
    report = await sync_crm(door.bot.services, "hubspot", door.team, LONG_AGO)
    assert report.error and "BATON_HUBSPOT_TOKEN" in report.error
    lines = await status_lines(door.bot.services, door.team)
    assert any(line.startswith("• *HubSpot sync:* the last pass") for line in lines)


async def test_the_salesforce_sync_reads_won_opportunities_changed_since(doors: Doors) -> None:
    services, sf = doors.bot.services, doors.sf
    first = won_opportunity(sf)
    report = await sync_crm(services, "salesforce", doors.team, LONG_AGO)
    assert report.error is None and report.counts() == {"created": 1}
    sf.org.change(first, Amount="52000")
    second = won_opportunity(sf)
    report = await sync_crm(services, "salesforce", doors.team)
    assert report.counts() == {"updated": 1, "created": 1}
    account = await doors.account(first)
    assert account is not None and str(account.arr) == "52000.00"
    assert await doors.account(second) is not None


async def test_baton_crm_sync_on_the_command_line(
    door: Door, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = door.bot.services.settings
    deal_id = new_deal(door.hub, "closedwon")
    for name, value in {
        "DATABASE_URL": settings.database_url,
        "BATON_HUBSPOT_TOKEN": door.hub.token,
        "BATON_HUBSPOT_API_URL": door.hub.api.base_url,
    }.items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(main, ["crm", "sync", "--since", "2020-01-01"]) == 0
    out = capsys.readouterr().out
    assert "HubSpot: 1 deals changed since 2020-01-01 00:00 UTC (1 created)." in out
    assert await door.account(deal_id) is not None
    monkeypatch.delenv("BATON_HUBSPOT_TOKEN")
    assert await asyncio.to_thread(main, ["crm", "sync"]) == 2
    assert "no CRM to read" in capsys.readouterr().err


def test_the_cli_refuses_a_since_that_is_not_a_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["crm", "sync", "--since", "yesterday"])
    assert "expects an ISO-8601 instant" in capsys.readouterr().err


_ = (HubSpotSandbox, Org, date)


async def test_one_process_of_several_runs_the_hourly_pass(door: Door) -> None:
    from storage.crm import claim_sync

    db, now = door.bot.services.db, datetime(2027, 1, 4, 9, tzinfo=UTC)
    claims = [
        await db.run(claim_sync, door.team, "hubspot", now, timedelta(minutes=55), immediate=True),
        await db.run(claim_sync, door.team, "hubspot", now, timedelta(minutes=55), immediate=True),
    ]
    assert claims == [True, False]
    later = now + timedelta(hours=1)
    assert await db.run(
        claim_sync, door.team, "hubspot", later, timedelta(minutes=55), immediate=True
    )
