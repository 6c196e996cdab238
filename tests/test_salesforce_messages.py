"""What Salesforce sends Baton: Outbound Messages (SOAP) and a flow's HTTP callout (JSON),
read by flows.crm.salesforce; and the sandbox's senders, whose messages must read the same."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from defusedxml import ElementTree as SafeET
from hypothesis import given
from hypothesis import strategies as st

from bot.sandbox.salesforce import FlowCallout, OutboundMessenger, SalesforceOrg
from flows.crm.salesforce import (
    OUTBOUND_NS,
    SOAP_CONTENT_TYPE,
    SOAP_ENV_NS,
    Notification,
    OutboundBatch,
    ack,
    authorized,
    flatten,
    id18,
    is_salesforce_id,
    parse_flow,
    parse_outbound,
    same_id,
    soap_fault,
)
from tests.nasty import hostile_text, json_values, one_sentence, storable

ORG = "00D5e000000KQ2eEAG"
ACTION = "04k5e000000CaRkAAK"
NOTE_1 = "04l5e00000Gx7QzAAJ"
NOTE_2 = "04l5e00000Gx7R0AAJ"
DEAL_1 = "0065e00000ZkM3hAAF"
DEAL_2 = "0065e00000ZkM3iAAF"
OWNER = "0055e000003Tq9AAAS"
ACCOUNT = "0015e00000ZkM3hAAF"


def sobject(deal: str, **fields: str | None) -> str:
    lines = [f"<sf:Id>{deal}</sf:Id>"]
    for name, value in fields.items():
        if value is None:
            lines.append(f'<sf:{name} xsi:nil="true"/>')
        else:
            lines.append(f"<sf:{name}>{value}</sf:{name}>")
    return "\n     ".join(lines)


def notification(note: str, deal: str, **fields: str | None) -> str:
    return f"""
   <Notification>
    <Id>{note}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
     {sobject(deal, **fields)}
    </sObject>
   </Notification>"""


def envelope(
    *notifications: str, org: str = ORG, session: str = '<SessionId xsi:nil="true"/>'
) -> bytes:
    """The structure of the docs' example message (Understanding the Outbound Messaging
    WSDL; a message as Salesforce posts it)."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body>
  <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
   <OrganizationId>{org}</OrganizationId>
   <ActionId>{ACTION}</ActionId>
   {session}
   <EnterpriseUrl>https://acme.my.salesforce.com/services/Soap/c/59.0/00D5e000000KQ2e</EnterpriseUrl>
   <PartnerUrl>https://acme.my.salesforce.com/services/Soap/u/59.0/00D5e000000KQ2e</PartnerUrl>{"".join(notifications)}
  </notifications>
 </soapenv:Body>
</soapenv:Envelope>""".encode()


WON = {
    "AccountId": ACCOUNT,
    "Amount": "50000.0",
    "CloseDate": "2025-06-30",
    "IsWon": "true",
    "LastModifiedDate": "2025-06-30T14:25:43.000Z",
    "Name": "Acme &amp; Co - 500 Widgets",
    "OwnerId": OWNER,
    "Renewal_Date__c": "2026-06-30",
    "StageName": "Closed Won",
}


def refused(body: bytes) -> str:
    result = parse_outbound(body)
    assert isinstance(result, str), result
    assert result.endswith(".") and "\n" not in result
    return result


# --- ids --------------------------------------------------------------------------------------
def test_ids_carry_their_case_suffix() -> None:
    assert id18("00D5e000000KQ2e") == ORG
    assert id18(ORG) == ORG
    assert id18(ORG.lower()[:15] + "EAG") is None  # the suffix no longer matches the case
    assert id18("00D5e000000KQ2eAAA") is None
    assert id18("00D5e000000KQ2") is None
    assert id18("00D5e000000KQ2e!") is None
    assert id18(123) is None
    assert is_salesforce_id(OWNER, "005") and not is_salesforce_id(OWNER, "006")
    assert same_id("00D5e000000KQ2e", ORG) and not same_id(ORG, DEAL_1)
    assert not same_id("garbage", "garbage")


# --- Outbound Messages ------------------------------------------------------------------------
def test_a_realistic_outbound_message_parses() -> None:
    batch = parse_outbound(envelope(notification(NOTE_1, DEAL_1, **WON)))
    assert batch == OutboundBatch(
        organization_id=ORG,
        action_id=ACTION,
        notifications=[
            Notification(
                NOTE_1,
                "Opportunity",
                {"Id": DEAL_1, **WON, "Name": "Acme & Co - 500 Widgets"},
            )
        ],
    )


def test_nil_fields_are_none_and_empty_ones_empty() -> None:
    body = envelope(
        notification(NOTE_1, DEAL_1, Amount=None, Renewal_Date__c=None, Name=""),
        session="<SessionId>00D5e000000KQ2e!AQ4AQ.secret</SessionId>",
    )
    batch = parse_outbound(body)
    assert isinstance(batch, OutboundBatch)
    fields = batch.notifications[0].fields
    assert fields["Amount"] is None and fields["Renewal_Date__c"] is None
    assert fields["Name"] == ""
    assert "secret" not in repr(batch)  # the session id is never kept


def test_two_notifications_and_a_retry_under_the_same_ids() -> None:
    body = envelope(
        notification(NOTE_1, DEAL_1, **WON),
        notification(NOTE_2, DEAL_2, **{**WON, "Amount": "1200.5"}),
    )
    first, again = parse_outbound(body), parse_outbound(body)
    assert isinstance(first, OutboundBatch) and isinstance(again, OutboundBatch)
    assert [n.id for n in first.notifications] == [NOTE_1, NOTE_2]
    assert [n.fields["Id"] for n in first.notifications] == [DEAL_1, DEAL_2]
    assert [n.id for n in again.notifications] == [n.id for n in first.notifications]


def test_a_deleted_record_arrives_as_an_empty_sobject() -> None:
    empty = f"""
   <Notification>
    <Id>{NOTE_1}</Id>
    <sObject xsi:type="sf:Opportunity" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"/>
   </Notification>"""
    batch = parse_outbound(envelope(empty))
    assert isinstance(batch, OutboundBatch)
    assert batch.notifications[0].fields == {}


def test_not_xml_is_refused() -> None:
    assert "well-formed XML" in refused(b"{}")
    assert "well-formed XML" in refused(b"")
    assert "well-formed XML" in refused(b"<a>\xff</a>")
    assert "well-formed XML" in refused(b'<?xml version="1.0" encoding="bogus"?><a/>')
    assert "well-formed XML" in refused(envelope(notification(NOTE_1, DEAL_1, Name="&undefined;")))
    assert "no body" in refused("text")  # type: ignore[arg-type]
    assert "1 MB" in refused(b" " * (1024 * 1024 + 1))


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&lol9;</soapenv:Body></soapenv:Envelope>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body>&xxe;</soapenv:Body></soapenv:Envelope>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE soapenv:Envelope SYSTEM "http://127.0.0.1:9/evil.dtd">
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>"""


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"])
def test_entities_and_dtds_are_refused_unexpanded(body: bytes) -> None:
    assert refused(body) == "The outbound message declares a DTD or entities, which Baton refuses."


def test_wrong_namespaces_and_shapes_are_refused() -> None:
    good = envelope(notification(NOTE_1, DEAL_1, **WON))
    soap12 = good.replace(SOAP_ENV_NS.encode(), b"http://www.w3.org/2003/05/soap-envelope")
    assert "SOAP 1.1 envelope" in refused(soap12)
    other = good.replace(OUTBOUND_NS.encode(), b"http://soap.sforce.com/2005/09/inbound")
    assert "one notifications element" in refused(other)
    fields_elsewhere = good.replace(b"urn:sobject.enterprise.soap.sforce.com", b"urn:other")
    assert "is not in urn:sobject.enterprise.soap.sforce.com" in refused(fields_elsewhere)
    no_type = good.replace(b'xsi:type="sf:Opportunity"', b"")
    assert "xsi:type" in refused(no_type)
    nested = good.replace(
        b"<sf:StageName>Closed Won</sf:StageName>", b"<sf:StageName><x/></sf:StageName>"
    )
    assert "holds elements" in refused(nested)
    twice = good.replace(b"<sf:StageName>", b"<sf:Name>x</sf:Name><sf:StageName>")
    assert "Field Name appears twice" in refused(twice)
    out_of_order = good.replace(f"<ActionId>{ACTION}</ActionId>".encode(), b"").replace(
        b"<PartnerUrl>", f"<ActionId>{ACTION}</ActionId><PartnerUrl>".encode()
    )
    assert "ActionId in the WSDL's order" in refused(out_of_order)
    assert "exactly one Body" in refused(
        b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"/>'
    )


def test_no_notifications_and_more_than_a_hundred_are_refused() -> None:
    assert refused(envelope()) == "The outbound message holds no Notification."
    many = [notification(NOTE_1, DEAL_1, **WON)] * 101
    assert "more than 100 notifications" in refused(envelope(*many))
    hundred = parse_outbound(envelope(*[notification(NOTE_1, DEAL_1, **WON)] * 100))
    assert isinstance(hundred, OutboundBatch) and len(hundred.notifications) == 100


def test_bad_ids_are_refused() -> None:
    assert "OrganizationId" in refused(envelope(notification(NOTE_1, DEAL_1), org=DEAL_1))
    assert "OrganizationId" in refused(
        envelope(notification(NOTE_1, DEAL_1), org="00D5e000000KQ2eAAA")
    )
    assert "OrganizationId" in refused(envelope(notification(NOTE_1, DEAL_1), org="x' or '1'='1"))
    assert "Notification 1 has no valid Id" in refused(envelope(notification("04l-bad", DEAL_1)))
    assert "no valid Id field" in refused(envelope(notification(NOTE_1, "0065e00000ZkM3hAAA")))
    good = envelope(notification(NOTE_1, DEAL_1, **WON))
    assert "ActionId" in refused(good.replace(ACTION.encode(), b"04k"))


def test_oversized_fields_are_refused() -> None:
    long = "x" * (32 * 1024 + 1)
    assert "longer than 32 KB" in refused(envelope(notification(NOTE_1, DEAL_1, Name=long)))
    fine = parse_outbound(envelope(notification(NOTE_1, DEAL_1, Name="x" * 32 * 1024)))
    assert isinstance(fine, OutboundBatch)


def test_deep_nesting_is_refused_without_crashing() -> None:
    deep = b"<a>" * 50_000 + b"</a>" * 50_000
    assert "SOAP 1.1 envelope" in refused(deep)


def test_ack_is_the_notifications_response_salesforce_expects() -> None:
    for ok, text in ((True, "true"), (False, "false")):
        root = SafeET.fromstring(ack(ok))
        assert root.tag == f"{{{SOAP_ENV_NS}}}Envelope"
        body = root.find(f"{{{SOAP_ENV_NS}}}Body")
        assert body is not None and len(body) == 1
        response = body[0]
        assert response.tag == f"{{{OUTBOUND_NS}}}notificationsResponse"
        assert [(c.tag, c.text) for c in response] == [(f"{{{OUTBOUND_NS}}}Ack", text)]
    assert SOAP_CONTENT_TYPE == "text/xml; charset=utf-8"


def test_a_soap_fault_carries_the_sentence_escaped() -> None:
    sentence = 'Field <Name> & "Amount" are wrong\x00\x07 here.'
    root = SafeET.fromstring(soap_fault(sentence))
    fault = root.find(f"{{{SOAP_ENV_NS}}}Body/{{{SOAP_ENV_NS}}}Fault")
    assert fault is not None
    assert fault.findtext("faultcode") == "soapenv:Client"
    assert fault.findtext("faultstring") == 'Field <Name> & "Amount" are wrong here.'
    assert len(soap_fault("x" * 10_000)) < 1500


# --- a flow's HTTP callout ----------------------------------------------------------------------
SERIALIZED = {
    "attributes": {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{DEAL_1}",
    },
    "Id": DEAL_1,
    "Name": "Acme - 500 Widgets",
    "Amount": 50000.0,
    "CloseDate": "2025-06-30",
    "StageName": "Closed Won",
    "IsWon": True,
    "OwnerId": OWNER,
    "LastModifiedDate": "2025-06-30T14:25:43.000+0000",
    "Renewal_Date__c": None,
    "Owner": {
        "attributes": {"type": "User", "url": f"/services/data/v59.0/sobjects/User/{OWNER}"},
        "Email": "ada@example.com",
    },
    "Account": {
        "attributes": {"type": "Account"},
        "Name": "Acme",
        "Owner": {"Email": "bo@example.com"},
    },
}


def test_a_single_record_and_a_records_list() -> None:
    assert parse_flow(SERIALIZED) == [SERIALIZED]
    second = {**SERIALIZED, "Id": DEAL_2}
    assert parse_flow({"records": [SERIALIZED, second]}) == [SERIALIZED, second]
    assert len(parse_flow({"records": [SERIALIZED] * 200})) == 200


def test_flatten_gives_dotted_names_and_text() -> None:
    flat = flatten(parse_flow(json.loads(json.dumps(SERIALIZED)))[0])  # type: ignore[index]
    assert flat == {
        "Id": DEAL_1,
        "Name": "Acme - 500 Widgets",
        "Amount": "50000.0",
        "CloseDate": "2025-06-30",
        "StageName": "Closed Won",
        "IsWon": "true",
        "OwnerId": OWNER,
        "LastModifiedDate": "2025-06-30T14:25:43.000+0000",
        "Renewal_Date__c": None,
        "Owner.Email": "ada@example.com",
        "Account.Name": "Acme",
        "Account.Owner.Email": "bo@example.com",
    }
    numbers = flatten(
        {"a": 1e-7, "b": Decimal("12.50"), "c": 3, "d": False, "e": None, "Account": None}
    )
    assert numbers == {
        "a": "0.0000001",
        "b": "12.50",
        "c": "3",
        "d": "false",
        "e": None,
        "Account": None,
    }


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ([SERIALIZED], "JSON object"),
        ("text", "JSON object"),
        (None, "JSON object"),
        ({"records": []}, "1 to 200"),
        ({"records": {}}, "1 to 200"),
        ({"records": [SERIALIZED] * 201}, "more than 200"),
        ({"records": [SERIALIZED], "extra": 1}, "nothing else"),
        ({"records": [1]}, "Record 1 is not a JSON object"),
        ({**SERIALIZED, "Id": "006"}, "no valid Salesforce Id"),
        ({**SERIALIZED, "Id": 6}, "no valid Salesforce Id"),
        ({k: v for k, v in SERIALIZED.items() if k != "Id"}, "no valid Salesforce Id"),
        ({**SERIALIZED, "Amount": float("nan")}, "finite number"),
        ({**SERIALIZED, "Amount": float("inf")}, "finite number"),
        ({**SERIALIZED, "OpportunityLineItems": [{"Id": "x"}]}, "is a list"),
        ({**SERIALIZED, "Name": "nul\x00here"}, "no database can store"),
        ({**SERIALIZED, "Name": "lone \ud800"}, "no database can store"),
        ({**SERIALIZED, "Name": "x" * (32 * 1024 + 1)}, "longer than 32 KB"),
        ({**SERIALIZED, "bad name": 1}, "field name"),
        ({**SERIALIZED, "": 1}, "field name"),
        ({**SERIALIZED, "attributes": "Opportunity"}, "attributes"),
        ({**SERIALIZED, "attributes": {"type": 1}}, "attributes"),
        ({**SERIALIZED, "A": {"B": {"C": {"D": {"E": {"F": {}}}}}}}, "more than 5 levels"),
        ({**SERIALIZED, **{f"F{i}": i for i in range(500)}}, "more than 500 fields"),
    ],
)
def test_hostile_callouts_are_refused_with_a_sentence(body: Any, words: str) -> None:
    result = parse_flow(body)
    assert isinstance(result, str), result
    assert words in result and result.endswith(".")


def test_the_bearer_secret() -> None:
    assert authorized("Bearer s3cret", "s3cret")
    assert authorized("bearer  s3cret ", "s3cret")
    assert not authorized("Bearer s3cre", "s3cret")
    assert not authorized("Bearer s3cret2", "s3cret")
    assert not authorized("Basic s3cret", "s3cret")
    assert not authorized("s3cret", "s3cret")
    assert not authorized(None, "s3cret")
    assert not authorized("Bearer ", "")
    assert not authorized("Bearer é\ud800", "s3cret")
    assert not authorized(b"Bearer s3cret", "s3cret")  # type: ignore[arg-type]
    assert authorized("Bearer é", "é")


# --- the sandbox's senders, over loopback ------------------------------------------------------------
class Door:
    """A stand-in for Baton's door (the lead's): reads with parse_outbound, acks or faults."""

    def __init__(self) -> None:
        self.seen: list[OutboundBatch | str] = []
        self.refuse_next = 0
        self.callouts: list[Any] = []
        self.url = ""

    async def outbound(self, request: web.Request) -> web.Response:
        result = parse_outbound(await request.read())
        self.seen.append(result)
        if isinstance(result, str) or self.refuse_next:
            self.refuse_next = max(0, self.refuse_next - 1)
            fault = soap_fault(result if isinstance(result, str) else "Try again later.")
            return web.Response(status=500, body=fault, content_type="text/xml", charset="utf-8")
        return web.Response(body=ack(), content_type="text/xml", charset="utf-8")

    async def callout(self, request: web.Request) -> web.Response:
        if not authorized(request.headers.get("Authorization"), "flow-secret"):
            return web.json_response({"error": "The callout's secret is wrong."}, status=401)
        result = parse_flow(await request.json())
        self.callouts.append(result)
        if isinstance(result, str):
            return web.json_response({"error": result}, status=400)
        return web.json_response({"accepted": len(result)})


@pytest.fixture
async def door() -> AsyncIterator[Door]:
    receiver = Door()
    app = web.Application()
    app.router.add_post("/salesforce/outbound", receiver.outbound)
    app.router.add_post("/salesforce/flow", receiver.callout)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}"
    yield receiver
    await runner.cleanup()


def an_org() -> tuple[SalesforceOrg, str, str]:
    org = SalesforceOrg()
    owner = org.add_user("Ada Lovelace", "ada@example.com")
    account = org.add_account("Acme & Sons <Ltd>", owner_id=owner)
    deal = org.add_opportunity(
        "Acme & Sons - 500 <Widgets>",
        owner_id=owner,
        account_id=account,
        close_date=date(2025, 6, 30),
        amount="50000",
        stage_name="Closed Won",
        at=datetime(2025, 6, 30, 14, 25, 43, 120000, tzinfo=UTC),
        Renewal_Date__c=date(2026, 6, 30),
    )
    return org, owner, deal


def test_the_messengers_envelope_parses() -> None:
    org, owner, deal = an_org()
    messenger = OutboundMessenger("http://127.0.0.1:9/x", org.organization_id, org=org)
    body = messenger.envelope(["04l5e00000Gx7QzAAJ"], [deal])
    batch = parse_outbound(body)
    assert isinstance(batch, OutboundBatch)
    assert batch.organization_id == org.organization_id
    assert batch.action_id == messenger.action_id
    fields = batch.notifications[0].fields
    assert list(fields)[0] == "Id" and list(fields)[1:] == sorted(list(fields)[1:])
    assert fields == {
        "Id": deal,
        "AccountId": org.record(deal)["AccountId"],
        "Amount": "50000.0",
        "CSM__c": None,
        "CloseDate": "2025-06-30",
        "IsWon": "true",
        "LastModifiedDate": "2025-06-30T14:25:43.120Z",
        "Name": "Acme & Sons - 500 <Widgets>",
        "OwnerId": owner,
        "Renewal_Date__c": "2026-06-30",
        "StageName": "Closed Won",
    }
    with pytest.raises(ValueError):
        OutboundMessenger("http://x", org.organization_id, fields=["Id", "Owner.Email"])


async def test_salesforce_retries_until_acked_under_the_same_ids(door: Door) -> None:
    org, _, deal = an_org()
    other = org.add_opportunity(
        "Beta", owner_id=org.record(deal)["OwnerId"], close_date=date(2025, 7, 1)
    )
    messenger = OutboundMessenger(f"{door.url}/salesforce/outbound", org.organization_id, org=org)
    door.refuse_next = 1
    first = await messenger.send([deal, other])
    assert first.status == 500 and not first.acked
    assert (
        messenger.queue
        and messenger.queue[0].notification_ids == messenger.sent[0].notification_ids
    )
    org.change(deal, Name="Acme renamed")  # a retry carries the latest data
    (second,) = await messenger.redeliver()
    assert second.status == 200 and second.acked and not messenger.queue
    refused_batch, delivered = door.seen
    assert isinstance(refused_batch, OutboundBatch) and isinstance(delivered, OutboundBatch)
    assert [n.id for n in delivered.notifications] == [n.id for n in refused_batch.notifications]
    assert delivered.notifications[0].fields["Name"] == "Acme renamed"
    third = await messenger.send([deal])  # a new message: fresh notification ids
    assert third.acked
    assert isinstance(door.seen[-1], OutboundBatch)
    assert door.seen[-1].notifications[0].id not in messenger.sent[0].notification_ids


async def test_a_deleted_record_is_sent_empty(door: Door) -> None:
    org, _, _ = an_org()
    messenger = OutboundMessenger(f"{door.url}/salesforce/outbound", org.organization_id, org=org)
    delivery = await messenger.send(["0065e00000ZkM3hAAF"])
    assert delivery.acked
    assert isinstance(door.seen[-1], OutboundBatch)
    assert door.seen[-1].notifications[0].fields == {}


async def test_an_answer_that_is_not_an_ack_is_not_delivered(door: Door) -> None:
    org, _, deal = an_org()
    messenger = OutboundMessenger(f"{door.url}/nowhere", org.organization_id, org=org)
    delivery = await messenger.send([deal])
    assert delivery.status == 404 and not delivery.acked and messenger.queue
    gone = OutboundMessenger("http://127.0.0.1:9/closed", org.organization_id, org=org)
    assert (await gone.send([deal])).status == 0


async def test_the_flow_callout_posts_what_parse_flow_reads(door: Door) -> None:
    org, owner, deal = an_org()
    callout = FlowCallout(f"{door.url}/salesforce/flow", "flow-secret", org=org)
    delivery = await callout.post([deal])
    assert delivery.status == 200, delivery.body
    (records,) = door.callouts
    assert isinstance(records, list)
    flat = flatten(records[0])
    assert flat["Owner.Email"] == "ada@example.com"
    assert flat["Account.Name"] == "Acme & Sons <Ltd>"
    assert flat["Amount"] == "50000.0" and flat["IsWon"] == "true"
    assert flat["CSM__r"] is None  # no CSM: a null parent
    assert (await callout.post([deal], single=True)).status == 200
    assert (await callout.post_raw(b"{}", authorization="Bearer wrong")).status == 401
    assert (await callout.post_raw(b"{}", authorization="")).status == 401
    hostile = await callout.post_raw(json.dumps({"records": [{"Id": [owner]}]}).encode())
    assert hostile.status == 400
    assert json.loads(hostile.body) == {
        "error": "Field Id of record 1 is a list, not a value or a parent record."
    }


# --- hostile input, at random --------------------------------------------------------------------
GOOD = envelope(notification(NOTE_1, DEAL_1, **WON), notification(NOTE_2, DEAL_2, Amount=None))


@given(st.lists(st.tuples(st.integers(0, len(GOOD) - 1), st.binary(max_size=4)), max_size=6))
def test_a_mangled_envelope_parses_or_is_refused_in_a_sentence(
    edits: list[tuple[int, bytes]],
) -> None:
    body = bytearray(GOOD)
    for at, replacement in edits:
        body[at : at + 1] = replacement
    result = parse_outbound(bytes(body))
    if isinstance(result, str):
        assert one_sentence(result)
    else:
        for note in result.notifications:
            assert is_salesforce_id(note.id)
            assert all(
                v is None or (storable(v) and len(v) <= 32 * 1024) for v in note.fields.values()
            )


@given(json_values(max_leaves=30))
def test_any_json_is_records_or_a_sentence(value: Any) -> None:
    result = parse_flow(value)
    assert isinstance(result, str) and one_sentence(result) or isinstance(result, list)


record_fields = st.dictionaries(
    st.one_of(
        st.sampled_from(["Name", "Amount", "Owner", "Account", "attributes", "IsWon"]),
        st.text(max_size=6),
    ),
    json_values(max_leaves=8),
    max_size=6,
)


@given(record_fields, st.booleans())
def test_record_shaped_json_flattens_to_storable_text(
    fields: dict[str, Any], wrapped: bool
) -> None:
    record = {**fields, "Id": DEAL_1}
    result = parse_flow({"records": [record]} if wrapped else record)
    if isinstance(result, str):
        assert one_sentence(result)
        return
    flat = flatten(result[0])
    assert flat["Id"] == DEAL_1
    assert all(
        value is None or (isinstance(value, str) and storable(value)) for value in flat.values()
    )
    assert not any(name == "attributes" or name.endswith(".attributes") for name in flat)


@given(hostile_text(), hostile_text())
def test_any_header_and_secret(header: str, secret: str) -> None:
    assert authorized(header, secret) == (
        bool(secret)
        and header.strip().lower().startswith("bearer ")
        and header.strip()[7:].strip() == secret
        and storable(secret)
    )
