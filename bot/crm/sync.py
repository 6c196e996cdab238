"""The CRM sync: read the won deals changed since the last pass and take each as its
webhook would, so a renewal date, ARR or owner changed in the CRM reaches Baton even when
the webhook was lost. `baton crm sync [--since DATE]`, and hourly inside `baton run` for
each CRM whose token is set.

Each deal carries the CRM's own last-modified time, and the intake never lets an older
change overwrite a newer one, so a pass that overlaps a webhook (or another pass) is safe.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.crm.deals import CrmDeal, Outcome, take_deal
from bot.crm.hubspot_api import HubSpotApi, HubSpotError
from bot.crm.hubspot_door import hubspot_deal
from bot.crm.salesforce_door import salesforce_api, salesforce_deal
from bot.crm.salesforce_error import SalesforceError
from bot.platform.services import Services
from flows.crm.mapping import CRM_NAMES
from flows.crm.salesforce import flatten
from storage.crm import claim_sync, record_sync, sync_state
from storage.workspaces import workspace_ids

log = logging.getLogger(__name__)
CLAIM_EVERY = timedelta(minutes=55)  # an hour, less a check's slack
CHECK_EVERY_S = 300.0
FIRST_PASS = timedelta(days=1)  # with no pass before and no --since: the last day's changes
PAGE = 100


@dataclass
class SyncReport:
    crm: str
    since: datetime
    outcomes: list[Outcome] = field(default_factory=list)
    error: str | None = None
    until: datetime | None = None

    def counts(self) -> dict[str, int]:
        counted: dict[str, int] = {}
        for outcome in self.outcomes:
            counted[outcome.result] = counted.get(outcome.result, 0) + 1
        return counted

    def line(self) -> str:
        name = CRM_NAMES[self.crm]
        counts = ", ".join(f"{n} {result}" for result, n in sorted(self.counts().items()))
        read = f"{len(self.outcomes)} deals changed since {self.since:%Y-%m-%d %H:%M} UTC"
        if self.error:
            return f"{name}: stopped after {read}: {self.error}"
        return f"{name}: {read}" + (f" ({counts})." if counts else ".")


def configured_crms(services: Services) -> list[str]:
    """The CRMs Baton can read: a token (and for Salesforce its instance) is set."""
    settings = services.settings
    crms = []
    if settings.baton_hubspot_token:
        crms.append("hubspot")
    if settings.baton_salesforce_token and settings.baton_salesforce_instance_url:
        crms.append("salesforce")
    return crms


async def sync_crm(
    services: Services, crm: str, team_id: str, since: datetime | None = None
) -> SyncReport:
    """One pass over one CRM for one workspace; how far it got is recorded, error or not."""
    now = services.clock()
    if since is None:
        state = await services.db.run(sync_state, team_id, crm)
        since = state.synced_until if state and state.synced_until else now - FIRST_PASS
    report = SyncReport(crm, since)
    try:
        await _pass(services, crm, team_id, report)
    except (HubSpotError, SalesforceError) as error:
        report.error = str(error)
        log.warning("%s sync stopped: %s", CRM_NAMES[crm], error)
    await services.db.run(
        record_sync,
        team_id,
        crm,
        services.clock(),
        synced_until=report.until,
        error=report.error,
        immediate=True,
    )
    return report


async def _pass(services: Services, crm: str, team_id: str, report: SyncReport) -> None:
    records = _changed(services, crm, report.since)
    while True:
        page = await asyncio.to_thread(_next_page, records)
        if not page:
            return
        for deal, modified in page:
            report.outcomes.append(await take_deal(services, team_id, deal))
            if modified and (report.until is None or modified > report.until):
                report.until = modified


def _changed(services: Services, crm: str, since: datetime) -> Iterator[tuple[CrmDeal, Any]]:
    settings = services.settings
    mapping = settings.crm_mapping.of(crm)
    if crm == "hubspot":
        assert settings.baton_hubspot_token
        api = HubSpotApi(settings.baton_hubspot_token, settings.baton_hubspot_api_url)
        portal = api.portal_id()
        for record in api.changed_since(since, mapping.properties()):
            properties = {**record.properties, "hs_object_id": str(record.id)}
            deal = hubspot_deal(api, mapping, properties, list(record.company_ids), portal)
            yield deal, record.modified_at
        return
    sf = salesforce_api(settings)
    assert sf is not None
    instance = settings.baton_salesforce_instance_url
    for record in sf.changed_since(since, mapping.properties()):
        flat = flatten(record)
        deal = salesforce_deal(sf, mapping, flat, instance, assume_won=True)
        yield deal, _moment(flat.get("LastModifiedDate"))


def _next_page(records: Iterator[tuple[CrmDeal, Any]]) -> list[tuple[CrmDeal, Any]]:
    page = []
    for item in records:
        page.append(item)
        if len(page) == PAGE:
            break
    return page


def _moment(value: Any) -> datetime | None:
    """Salesforce's LastModifiedDate ("2027-01-04T15:00:00.000+0000")."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("+0000", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def sync_all(services: Services, since: datetime | None = None) -> list[SyncReport]:
    """Every configured CRM, for every workspace (`baton crm sync`)."""
    reports = []
    for team_id in await services.db.run(workspace_ids):
        for crm in configured_crms(services):
            reports.append(await sync_crm(services, crm, team_id, since))
    return reports


async def hourly_sync(services: Services) -> None:
    """`baton run`'s pass: every hour, each configured CRM, by one process of however many
    share the database (a failure waits for the next hour)."""
    while True:
        try:
            for team_id in await services.db.run(workspace_ids):
                for crm in configured_crms(services):
                    claimed = await services.db.run(
                        claim_sync, team_id, crm, services.clock(), CLAIM_EVERY, immediate=True
                    )
                    if claimed:
                        log.info("%s", (await sync_crm(services, crm, team_id)).line())
        except Exception:
            log.exception("the CRM sync failed; it runs again in an hour")
        await asyncio.sleep(CHECK_EVERY_S)
