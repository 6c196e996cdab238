"""Salesforce's sending side, for tests and the demo.

`OutboundMessenger` posts Outbound Messages as Salesforce does: a SOAP 1.1 envelope
(`Content-Type: text/xml; charset=utf-8`, `SOAPAction: ""`) with up to 100 notifications,
each with a fresh notification id; a message counts as delivered only when the answer is
HTTP 200 with `<Ack>true</Ack>` in a `notificationsResponse` of the outbound namespace
(stricter than Salesforce, which is known to accept other shapes). Until then it stays
queued, and `redeliver()` sends it again under the same notification ids with the
records' latest data, as Salesforce does for 24 hours. Only the object's own fields can
be sent (Outbound Messages carry no parent fields), `Id` first and the rest in
alphabetical order, nulls as `xsi:nil="true"`.

`FlowCallout` posts what a record-triggered flow's HTTP callout posts in Baton's contract:
one serialized Opportunity or `{"records": [...]}`, with `Authorization: Bearer <secret>`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import escape, quoteattr

import aiohttp
import defusedxml.ElementTree as SafeET

from bot.sandbox.salesforce.ids import new_id
from bot.sandbox.salesforce.org import SalesforceOrg
from bot.sandbox.salesforce.soql import render, resolve_fields

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
OUTBOUND_TIMEOUT_S = 60  # Salesforce's timeout for an outbound message
CALLOUT_TIMEOUT_S = 120  # a flow HTTP callout's longest timeout
MAX_NOTIFICATIONS = 100
OUTBOUND_FIELDS = (
    "Id",
    "Name",
    "Amount",
    "CloseDate",
    "StageName",
    "IsWon",
    "OwnerId",
    "AccountId",
    "LastModifiedDate",
    "Renewal_Date__c",
    "CSM__c",
)
FLOW_FIELDS = (
    *OUTBOUND_FIELDS,
    "Owner.Email",
    "Owner.Name",
    "Account.Name",
    "CSM__r.Email",
)

Record = str | Mapping[str, Any]  # an id in the messenger's org, or the fields themselves


class Delivery(NamedTuple):
    status: int  # 0: no answer (refused, reset, or past the timeout)
    body: bytes
    content_type: str = ""

    @property
    def acked(self) -> bool:
        return self.status == 200 and self.content_type == "text/xml" and _acks(self.body)


def _acks(body: bytes) -> bool:
    try:
        root = SafeET.fromstring(body, forbid_dtd=True)
    except (ParseError, ValueError, LookupError):
        return False
    response = root.find(f"{{{SOAP_ENV_NS}}}Body/{{{OUTBOUND_NS}}}notificationsResponse")
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope" or response is None:
        return False
    found = response.find(f"{{{OUTBOUND_NS}}}Ack")
    return found is not None and (found.text or "").strip() == "true"


@dataclass
class OutboundMessage:
    notification_ids: list[str]
    records: list[Record]
    deliveries: list[Delivery] = field(default_factory=list)


def soap_text(value: Any) -> str | None:
    """A field's value as an Outbound Message writes it (None: xsi:nil)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | float | int):
        return repr(float(value))
    if isinstance(value, datetime):
        instant = value.astimezone(UTC)
        return f"{instant:%Y-%m-%dT%H:%M:%S}.{instant.microsecond // 1000:03d}Z"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class OutboundMessenger:
    def __init__(
        self,
        target_url: str,
        organization_id: str,
        *,
        org: SalesforceOrg | None = None,
        action_id: str | None = None,
        fields: Sequence[str] = OUTBOUND_FIELDS,
        sobject_type: str = "Opportunity",
        instance_url: str = "https://baton-sandbox.my.salesforce.com",
        api_version: str = "59.0",
        session_id: str | None = None,
    ) -> None:
        if "Id" not in fields or any("." in name for name in fields):
            raise ValueError("an outbound message sends Id and the object's own fields only")
        self.target_url = target_url
        self.organization_id = organization_id
        self.org = org
        self.action_id = action_id or new_id("04k")
        self.fields = ["Id", *sorted(name for name in fields if name != "Id")]
        self.sobject_type = sobject_type
        self.instance_url = instance_url
        self.api_version = api_version
        self.session_id = session_id  # "Send Session ID" ticked: sent in SessionId
        self.queue: list[OutboundMessage] = []  # not yet acknowledged
        self.sent: list[OutboundMessage] = []

    # --- the envelope -------------------------------------------------------------------
    def envelope(self, notification_ids: Sequence[str], records: Sequence[Record]) -> bytes:
        org15 = self.organization_id[:15]
        session = (
            '<SessionId xsi:nil="true"/>'
            if self.session_id is None
            else f"<SessionId>{escape(self.session_id)}</SessionId>"
        )
        notifications = "".join(
            self._notification(notification_id, self._fields_of(record))
            for notification_id, record in zip(notification_ids, records, strict=True)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}"'
            ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"'
            ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            " <soapenv:Body>\n"
            f'  <notifications xmlns="{OUTBOUND_NS}">\n'
            f"   <OrganizationId>{self.organization_id}</OrganizationId>\n"
            f"   <ActionId>{self.action_id}</ActionId>\n"
            f"   {session}\n"
            f"   <EnterpriseUrl>{escape(self.instance_url)}/services/Soap/c/"
            f"{self.api_version}/{org15}</EnterpriseUrl>\n"
            f"   <PartnerUrl>{escape(self.instance_url)}/services/Soap/u/"
            f"{self.api_version}/{org15}</PartnerUrl>\n"
            f"{notifications}"
            "  </notifications>\n"
            " </soapenv:Body>\n"
            "</soapenv:Envelope>"
        ).encode()

    def _notification(self, notification_id: str, values: Mapping[str, Any] | None) -> str:
        lines = []
        for name in self.fields if values is not None else ():
            text = soap_text(values.get(name))  # type: ignore[union-attr]
            if text is None:
                lines.append(f'     <sf:{name} xsi:nil="true"/>\n')
            else:
                lines.append(f"     <sf:{name}>{escape(text)}</sf:{name}>\n")
        return (
            "   <Notification>\n"
            f"    <Id>{notification_id}</Id>\n"
            f"    <sObject xsi:type={quoteattr('sf:' + self.sobject_type)}"
            f' xmlns:sf="{SOBJECT_NS}">\n'
            f"{''.join(lines)}"
            "    </sObject>\n"
            "   </Notification>\n"
        )

    def _fields_of(self, record: Record) -> Mapping[str, Any] | None:
        """The record's latest values; None once it is deleted (an empty sObject)."""
        if isinstance(record, str):
            if self.org is None:
                raise ValueError("pass the messenger an org to send records by id")
            try:
                return self.org.record(record)
            except KeyError:
                return None
        return record

    # --- sending -------------------------------------------------------------------------
    async def send(self, records: Sequence[Record]) -> Delivery:
        """One outbound message with fresh notification ids for these records."""
        if not 1 <= len(records) <= MAX_NOTIFICATIONS:
            raise ValueError("an outbound message holds 1 to 100 notifications")
        message = OutboundMessage([new_id("04l") for _ in records], list(records))
        self.sent.append(message)
        self.queue.append(message)
        return await self._deliver(message)

    async def redeliver(self, message: OutboundMessage | None = None) -> list[Delivery]:
        """Send again, under the same notification ids and with the records' latest data,
        `message` (even one already acknowledged: Salesforce delivers at least once) or
        every message still queued."""
        targets = [message] if message is not None else list(self.queue)
        return [await self._deliver(target) for target in targets]

    async def _deliver(self, message: OutboundMessage) -> Delivery:
        body = self.envelope(message.notification_ids, message.records)
        headers = {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'}
        delivery = await _post(self.target_url, body, headers, OUTBOUND_TIMEOUT_S)
        message.deliveries.append(delivery)
        if delivery.acked and message in self.queue:
            self.queue.remove(message)
        return delivery


class FlowCallout:
    def __init__(
        self,
        target_url: str,
        secret: str,
        *,
        org: SalesforceOrg | None = None,
        fields: Sequence[str] = FLOW_FIELDS,
        api_version: str = "59.0",
    ) -> None:
        self.target_url = target_url
        self.secret = secret
        self.org = org
        self.fields = list(fields)
        self.api_version = api_version

    def serialize(self, record_id: str) -> dict[str, Any]:
        """A record as Apex's JSON.serialize and a flow's callout write it: `attributes`,
        the fields, parents as nested objects."""
        if self.org is None:
            raise ValueError("pass the callout an org to send records by id")
        sobject = self.org.sobject_of(record_id)
        resolved = resolve_fields(self.org, sobject, self.fields)
        return render(self.org, sobject, self.org.record(record_id), resolved, self.api_version)

    async def post(self, records: Sequence[Record], *, single: bool = False) -> Delivery:
        """Post the records as `{"records": [...]}`, or (`single`) the one record alone."""
        bodies = [self.serialize(r) if isinstance(r, str) else dict(r) for r in records]
        payload: Any = bodies[0] if single else {"records": bodies}
        return await self.post_raw(json.dumps(payload).encode())

    async def post_raw(
        self,
        body: bytes,
        *,
        authorization: str | None = None,
        content_type: str = "application/json",
    ) -> Delivery:
        """Post any body (hostile ones included), with this callout's secret unless
        `authorization` says otherwise ("" sends no Authorization header)."""
        value = f"Bearer {self.secret}" if authorization is None else authorization
        headers = {"Content-Type": content_type}
        if value:
            headers["Authorization"] = value
        return await _post(self.target_url, body, headers, CALLOUT_TIMEOUT_S)


async def _post(url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> Delivery:
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session,
            session.post(url, data=body, headers=headers) as response,
        ):
            return Delivery(response.status, await response.read(), response.content_type)
    except (aiohttp.ClientError, TimeoutError):
        return Delivery(0, b"")
