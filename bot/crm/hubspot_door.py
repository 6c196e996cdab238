"""`POST /crm/hubspot`: HubSpot's Webhooks API (an array of events) and its workflows'
"Send a webhook" action (one deal), signed with `X-HubSpot-Signature-v3`.

An event says only that a deal changed; the deal as it is now is read back from HubSpot
(its properties, its owners' emails, its company's name) with the private app's token.
Reading the present state makes a retried or reordered event harmless, and HubSpot's
`hs_lastmodifieddate` orders the news, so older never overwrites newer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping as MappingOf
from typing import Any

from bot.crm.answers import DoorAnswer, door_team, json_body, now_ms, refused
from bot.crm.deals import CrmDeal, Outcome, take_deals
from bot.crm.hubspot_api import HubSpotApi, HubSpotError
from bot.platform.http_input import BadRequest, is_json, utf8
from bot.platform.services import Services
from flows.crm.hubspot import DealEvent, is_signed_v3, parse_events, parse_workflow
from flows.crm.mapping import CrmMapping, Source
from storage.crm import record_events, unseen_events

log = logging.getLogger(__name__)
SOURCE = "hubspot"
SIGNATURE_REFUSED = (
    "The X-HubSpot-Signature-v3 signature is missing or wrong, or its timestamp is more "
    "than 5 minutes old."
)
CONCURRENT_READS = 4  # deals read from HubSpot at once (its limit is 100 calls per 10 s)


class HubSpotDoor:
    """One per process: the API client (and its owner-email cache) and the portal the
    token belongs to, learnt once."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._api: HubSpotApi | None = None
        self._portal: int | None = None

    async def answer(
        self, method: str, uri: str, headers: MappingOf[str, str], raw: bytes, team: str | None
    ) -> DoorAnswer:
        settings = self.services.settings
        secret = settings.baton_hubspot_client_secret
        if secret is None:
            return refused(
                503, "BATON_HUBSPOT_CLIENT_SECRET is not set, so HubSpot webhooks are refused."
            )
        try:
            utf8(raw)
        except BadRequest as bad:
            return refused(bad.status, bad.message)
        if not is_signed_v3(secret, method, uri, raw, headers, now_ms()):
            return refused(401, SIGNATURE_REFUSED)
        if not is_json(headers.get("Content-Type", "")):
            return refused(
                415, "Send HubSpot's webhook as JSON, with Content-Type: application/json."
            )
        body = json_body(raw)
        if isinstance(body, DoorAnswer):
            return body
        if settings.baton_hubspot_token is None:
            return refused(
                503,
                "BATON_HUBSPOT_TOKEN is not set, so Baton cannot read the deals HubSpot's "
                "webhooks name.",
            )
        team_id = await door_team(self.services, team)
        if isinstance(team_id, DoorAnswer):
            return team_id
        try:
            if isinstance(body, list):
                return await self._events(team_id, body)
            return await self._workflow(team_id, body)
        except HubSpotError as error:
            log.warning("HubSpot webhook not taken: %s", error)
            wait = str(max(1, round(error.retry_after or 60)))
            return refused(
                503,
                f"{error} The deals will be taken when HubSpot sends them again.",
                **{"Retry-After": wait},
            )

    async def _events(self, team_id: str, body: list[Any]) -> DoorAnswer:
        events = parse_events(body)
        if isinstance(events, str):
            return refused(400, events)
        if not events:
            return refused(400, "The event array is empty; HubSpot sends 1 to 100 events.")
        portal = await self.portal()
        strangers = sorted({e.portal_id for e in events if e.portal_id != portal})
        if strangers:
            return refused(
                403,
                f"These events are for HubSpot account {strangers[0]}, not {portal}, the "
                "account BATON_HUBSPOT_TOKEN belongs to.",
            )
        ids = [str(e.event_id) for e in events]
        new = set(await self.services.db.run(unseen_events, team_id, SOURCE, ids))
        deal_ids = _changed_deals([e for e in events if str(e.event_id) in new])
        outcomes = await self._take(team_id, deal_ids)
        await self.services.db.run(
            record_events, team_id, SOURCE, list(new), self.services.clock(), immediate=True
        )
        return DoorAnswer(
            200,
            {
                "ok": True,
                "events": len(events),
                "already_taken": len(events) - len(new),
                "deals": [o.as_json() for o in outcomes],
            },
        )

    async def _workflow(self, team_id: str, body: Any) -> DoorAnswer:
        properties = parse_workflow(body)
        if isinstance(properties, str):
            return refused(400, properties)
        mapping = self.mapping
        api = self.api
        portal = await self.portal()
        named = body.get("portalId") if isinstance(body, dict) else None
        if named is not None and named != portal:
            return refused(
                403,
                f"This workflow's deal is from HubSpot account {str(named)[:20]}, not {portal}, "
                "the account BATON_HUBSPOT_TOKEN belongs to.",
            )
        deal = await asyncio.to_thread(hubspot_deal, api, mapping, properties, None, portal)
        outcomes = await take_deals(self.services, team_id, [deal])
        return DoorAnswer(200, {"ok": True, "deals": [o.as_json() for o in outcomes]})

    async def _take(self, team_id: str, deal_ids: list[int]) -> list[Outcome]:
        gate = asyncio.Semaphore(CONCURRENT_READS)
        portal = await self.portal()

        async def read(deal_id: int) -> CrmDeal | None:
            async with gate:
                return await asyncio.to_thread(_read_deal, self.api, self.mapping, deal_id, portal)

        deals = await asyncio.gather(*(read(d) for d in deal_ids))
        gone = [
            Outcome(str(d), "skipped", problems=["HubSpot has no such deal now."])
            for d, deal in zip(deal_ids, deals, strict=True)
            if deal is None
        ]
        taken = await take_deals(self.services, team_id, [d for d in deals if d is not None])
        return taken + gone

    async def portal(self) -> int:
        if self._portal is None:
            self._portal = await asyncio.to_thread(self.api.portal_id)
        return self._portal

    @property
    def api(self) -> HubSpotApi:
        settings = self.services.settings
        assert settings.baton_hubspot_token is not None
        if self._api is None:
            # HubSpot waits 5 s for the answer: no long waits or many retries inside it.
            self._api = HubSpotApi(
                settings.baton_hubspot_token,
                settings.baton_hubspot_api_url,
                retries=1,
                timeout_s=3.0,
                max_wait_s=1.0,
            )
        return self._api

    @property
    def mapping(self) -> CrmMapping:
        return self.services.settings.crm_mapping.hubspot


def _changed_deals(events: list[DealEvent]) -> list[int]:
    """The deals these events are about, each once, in the order they came (a deletion
    changes nothing Baton keeps)."""
    wanted = [
        e.object_id
        for e in events
        if e.subscription_type.startswith("deal.") and e.subscription_type != "deal.deletion"
    ]
    return list(dict.fromkeys(wanted))


def _read_deal(api: HubSpotApi, mapping: CrmMapping, deal_id: int, portal: int) -> CrmDeal | None:
    record = api.deal(deal_id, mapping.properties())
    if record is None:
        return None
    properties = {**record.properties, "hs_object_id": str(record.id)}
    return hubspot_deal(api, mapping, properties, list(record.company_ids), portal)


def hubspot_deal(
    api: HubSpotApi,
    mapping: CrmMapping,
    properties: MappingOf[str, Any],
    company_ids: list[str] | None,
    portal: int,
) -> CrmDeal:
    """The deal in Baton's fields: owners' emails and the company's name read as needed."""
    companies = company_ids
    deal_id = properties.get("hs_object_id")

    def resolve(source: Source) -> Any:
        nonlocal companies
        if source.kind == "property":
            return properties.get(source.name)
        if source.kind == "owner":
            owner = properties.get(source.name)
            return api.owner_email(str(owner)) if owner else None
        if companies is None:  # a workflow's body names no association: read it
            record = api.deal(deal_id, []) if deal_id else None
            companies = list(record.company_ids) if record else []
        return api.company_name(companies[0]) if companies and source.name == "name" else None

    body = mapping.body(resolve, {"portal_id": str(portal)})
    return CrmDeal(SOURCE, body, mapping.is_closed_won(properties))
