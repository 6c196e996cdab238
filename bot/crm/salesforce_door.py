"""Salesforce's two doors: `POST /crm/salesforce` (a record-triggered Flow's HTTP callout,
JSON, `Authorization: Bearer` with `BATON_SALESFORCE_SECRET`) and
`POST /crm/salesforce/outbound` (Outbound Messages, SOAP, taken only from the orgs in
`BATON_SALESFORCE_ORG_IDS` and acknowledged so Salesforce stops retrying).

An Outbound Message carries the Opportunity's own fields only; a relationship field the
mapping reads (`Owner.Email`, `CSM__r.Email`) is looked up through its id field with the
API token when one is set.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping as MappingOf
from typing import TYPE_CHECKING, Any

from bot.crm.answers import DoorAnswer, door_team, json_body, refused
from bot.crm.deals import CrmDeal, take_deals
from bot.crm.salesforce_error import SalesforceError
from bot.platform.http_input import BadRequest, is_json, utf8
from bot.platform.services import Services
from bot.platform.settings import Settings
from flows.crm.mapping import CrmMapping, Source
from flows.crm.salesforce import (
    ack,
    authorized,
    flatten,
    parse_flow,
    parse_outbound,
    soap_fault,
)
from storage.crm import record_events, unseen_events

if TYPE_CHECKING:
    from bot.crm.salesforce_api import SalesforceApi

log = logging.getLogger(__name__)
SOURCE = "salesforce"
XML = "text/xml"  # charset utf-8 is added by the server


class SalesforceDoor:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._api: SalesforceApi | None = None

    async def flow(self, headers: MappingOf[str, str], raw: bytes, team: str | None) -> DoorAnswer:
        secret = self.services.settings.baton_salesforce_secret
        if secret is None:
            return refused(
                503, "BATON_SALESFORCE_SECRET is not set, so Salesforce Flow callouts are refused."
            )
        if not authorized(headers.get("Authorization"), secret):
            return refused(
                401, "The Authorization header must be Bearer and BATON_SALESFORCE_SECRET."
            )
        if not is_json(headers.get("Content-Type", "")):
            return refused(
                415, "Send the opportunity as JSON, with Content-Type: application/json."
            )
        body = json_body(raw)
        if isinstance(body, DoorAnswer):
            return body
        records = parse_flow(body)
        if isinstance(records, str):
            return refused(400, records)
        team_id = await door_team(self.services, team)
        if isinstance(team_id, DoorAnswer):
            return team_id
        instance = self.services.settings.baton_salesforce_instance_url
        try:
            deals = [await self._deal(flatten(r), instance, assume_won=True) for r in records]
        except SalesforceError as error:
            return refused(503, f"{error} Send the callout again later.")
        outcomes = await take_deals(self.services, team_id, deals)
        return DoorAnswer(200, {"ok": True, "deals": [o.as_json() for o in outcomes]})

    async def outbound(self, raw: bytes, team: str | None) -> DoorAnswer:
        orgs = self.services.settings.salesforce_org_ids
        if not orgs:
            return _fault(
                503, "BATON_SALESFORCE_ORG_IDS is not set, so Outbound Messages are refused."
            )
        try:
            utf8(raw)
        except BadRequest as bad:
            return _fault(bad.status, bad.message)
        batch = parse_outbound(raw)
        if isinstance(batch, str):
            return _fault(400, batch)
        if batch.organization_id[:15] not in orgs:
            return _fault(
                403,
                f"Organization {batch.organization_id} is not in BATON_SALESFORCE_ORG_IDS, so "
                "its messages are refused.",
            )
        team_id = await door_team(self.services, team)
        if isinstance(team_id, DoorAnswer):
            return _fault(team_id.status, team_id.body["error"])
        ids = [n.id for n in batch.notifications]
        new = set(await self.services.db.run(unseen_events, team_id, SOURCE, ids))
        instance = self.services.settings.baton_salesforce_instance_url
        try:
            deals = [
                await self._deal(n.fields, instance, assume_won=False)
                for n in batch.notifications
                if n.id in new and n.sobject_type == "Opportunity"
            ]
        except SalesforceError as error:
            return _fault(503, f"{error} Salesforce will send the message again.")
        outcomes = await take_deals(self.services, team_id, deals)
        for outcome in outcomes:
            if outcome.result == "refused":
                log.warning("Outbound Message deal %s: %s", outcome.crm_id, outcome.problems)
        await self.services.db.run(
            record_events, team_id, SOURCE, list(new), self.services.clock(), immediate=True
        )
        return DoorAnswer(200, ack(), content_type=XML)

    @property
    def api(self) -> SalesforceApi | None:
        if self._api is None:
            self._api = salesforce_api(self.services.settings)
        return self._api

    @property
    def mapping(self) -> CrmMapping:
        return self.services.settings.crm_mapping.salesforce

    async def _deal(
        self, fields: MappingOf[str, Any], instance: str | None, *, assume_won: bool
    ) -> CrmDeal:
        return await asyncio.to_thread(
            salesforce_deal, self.api, self.mapping, fields, instance, assume_won=assume_won
        )


def salesforce_api(settings: Settings) -> SalesforceApi | None:
    """The org's API, when its URL and a token are set (the sync; the users' emails an
    Outbound Message does not carry)."""
    if settings.baton_salesforce_token is None or settings.baton_salesforce_instance_url is None:
        return None
    from bot.crm.salesforce_api import SalesforceApi  # simple-salesforce, only when used

    return SalesforceApi(settings.baton_salesforce_instance_url, settings.baton_salesforce_token)


def salesforce_deal(
    api: SalesforceApi | None,
    mapping: CrmMapping,
    fields: MappingOf[str, Any],
    instance: str | None,
    *,
    assume_won: bool,
) -> CrmDeal:
    """The opportunity in Baton's fields. `assume_won`: a Flow that fires when IsWon
    becomes true may leave IsWon out of what it sends."""
    emails = _emails(api, mapping, fields)

    def resolve(source: Source) -> Any:
        if source.name in fields:
            return fields[source.name]
        id_field = _id_field(source.name)
        return emails.get(str(fields.get(id_field))) if id_field else None

    body = mapping.body(resolve, {"instance_url": instance} if instance else {})
    won_known = mapping.closed_won_property in fields
    closed_won = mapping.is_closed_won(fields) if won_known or not assume_won else True
    return CrmDeal(SOURCE, body, closed_won)


def _emails(
    api: SalesforceApi | None, mapping: CrmMapping, fields: MappingOf[str, Any]
) -> dict[str, str]:
    """Users' emails a relationship field names but the record does not carry."""
    wanted = set()
    for sources in mapping.fields.values():
        for source in sources:
            id_field = _id_field(source.name)
            if source.name not in fields and id_field and fields.get(id_field):
                wanted.add(str(fields[id_field]))
    if not wanted or api is None:
        return {}
    return api.user_emails(sorted(wanted))


def _id_field(name: str) -> str | None:
    """The lookup field behind a user's email: Owner.Email → OwnerId, CSM__r.Email → CSM__c."""
    relation, dot, field = name.partition(".")
    if not dot or field != "Email":
        return None
    return relation[:-3] + "__c" if relation.endswith("__r") else relation + "Id"


def _fault(status: int, message: str) -> DoorAnswer:
    return DoorAnswer(status, soap_fault(message), content_type=XML)
