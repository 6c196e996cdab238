"""What Salesforce sends Baton, read strictly: Outbound Messages and a Flow's HTTP callout.

**Outbound Messages** are SOAP 1.1 posts (the `notifications()` call of the outbound
messaging WSDL): `soapenv:Envelope/soapenv:Body/notifications`, in the namespace
`http://soap.sforce.com/2005/09/outbound`, holding `OrganizationId`, `ActionId`,
`SessionId` (nillable), `EnterpriseUrl`, `PartnerUrl` and 1 to 100 `Notification`s in that
order. Each notification has its `Id` (repeated when Salesforce retries, so it is the
idempotency key) and an `sObject` whose `xsi:type` names the object and whose fields are
in `urn:sobject.enterprise.soap.sforce.com`. A record deleted before delivery arrives with
an empty `sObject`. Salesforce retries until the answer is `<Ack>true</Ack>` in a
`notificationsResponse`, for 24 hours, at intervals growing to 2 hours.

The body is parsed with defusedxml and no DTD at all: a billion-laughs or XXE body is
refused before any entity is expanded or fetched.

**A Flow's HTTP callout** (or Apex) posts JSON Baton defines: one serialized Opportunity,
or `{"records": [...]}` with up to 200. Fields carry their API names; parent
relationships are nested objects (`"Owner": {"Email": ...}`), and a serialized sObject
carries an `attributes` object. `flatten` turns a record into dotted names and text.

Salesforce ids are 15 case-sensitive characters, or 18 with a 3-character suffix that
encodes the case of the first 15; every id Baton reads is checked, suffix included.
"""

from __future__ import annotations

import hmac
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOBJECT_NS = "urn:sobject.enterprise.soap.sforce.com"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
# The Content-Type of Baton's answers to an Outbound Message (and of what Salesforce posts).
SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"

MAX_BODY_BYTES = 1024 * 1024  # the door enforces it first; checked again here
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs
MAX_FIELD_CHARS = 32 * 1024
MAX_URL_CHARS = 2048
MAX_FLOW_RECORDS = 200
MAX_FIELDS_PER_RECORD = 500
MAX_RELATIONSHIP_DEPTH = 5  # SOQL's limit on parent relationship levels
MAX_FAULT_CHARS = 1000

_ID_CHARS = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,79}")
_TYPE_NAME = re.compile(r"(?:[A-Za-z_][A-Za-z0-9_.-]*:)?([A-Za-z][A-Za-z0-9_]{0,79})")
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_NOT_XML_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_HEADER = ("OrganizationId", "ActionId", "SessionId", "EnterpriseUrl", "PartnerUrl")


@dataclass(frozen=True)
class Notification:
    id: str  # the notification's id: the same on every retry of it
    sobject_type: str  # "Opportunity"
    fields: dict[str, str | None]  # API name -> text as sent; None for xsi:nil; {} if deleted


@dataclass(frozen=True)
class OutboundBatch:
    organization_id: str
    action_id: str
    notifications: list[Notification]


# --- ids ----------------------------------------------------------------------------------
def _suffix(id15: str) -> str:
    chars = []
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start : start + 5]) if "A" <= c <= "Z")
        chars.append(_SUFFIX_CHARS[bits])
    return "".join(chars)


def id18(value: object) -> str | None:
    """The 18-character form of a Salesforce id (15 or 18 characters), or None if it is
    not one (wrong length or characters, or an 18-character id whose suffix is wrong)."""
    if not isinstance(value, str) or not _ID_CHARS.fullmatch(value):
        return None
    full = value[:15] + _suffix(value[:15])
    if len(value) == 18 and value[15:].upper() != full[15:]:
        return None
    return full


def is_salesforce_id(value: object, prefix: str | None = None) -> bool:
    """True for a well-formed 15 or 18-character id, starting with `prefix` if given
    (`00D` an organization, `005` a user, `001` an account, `006` an opportunity)."""
    return id18(value) is not None and (prefix is None or str(value).startswith(prefix))


def same_id(a: object, b: object) -> bool:
    """Whether two ids name the same record (a 15 and an 18-character form compare equal),
    e.g. an Outbound Message's OrganizationId against the org id an admin typed in."""
    first, second = id18(a), id18(b)
    return first is not None and first == second


# --- Outbound Messages ----------------------------------------------------------------------
class _Refused(Exception):
    """One sentence saying why a body is refused."""


def parse_outbound(body: bytes) -> OutboundBatch | str:
    """An Outbound Message's notifications, or one sentence saying what is wrong."""
    try:
        return _outbound(body)
    except _Refused as refused:
        return str(refused)


def _outbound(body: bytes) -> OutboundBatch:
    if not isinstance(body, bytes | bytearray):
        raise _Refused("The outbound message has no body.")
    if len(body) > MAX_BODY_BYTES:
        raise _Refused("The outbound message is larger than 1 MB.")
    root = _parse_xml(bytes(body))
    if root.tag != f"{{{SOAP_ENV_NS}}}Envelope":
        raise _Refused("The outbound message is not a SOAP 1.1 envelope.")
    parts = [child for child in root if child.tag != f"{{{SOAP_ENV_NS}}}Header"]
    if len(parts) != 1 or parts[0].tag != f"{{{SOAP_ENV_NS}}}Body":
        raise _Refused("The SOAP envelope must hold exactly one Body.")
    calls = list(parts[0])
    if len(calls) != 1 or calls[0].tag != f"{{{OUTBOUND_NS}}}notifications":
        raise _Refused(f"The SOAP Body must hold one notifications element in {OUTBOUND_NS}.")
    return _notifications(calls[0])


def _parse_xml(body: bytes) -> Element:
    try:
        return SafeET.fromstring(body, forbid_dtd=True, forbid_entities=True)
    except (SafeET.DTDForbidden, SafeET.EntitiesForbidden, SafeET.ExternalReferenceForbidden):
        raise _Refused(
            "The outbound message declares a DTD or entities, which Baton refuses."
        ) from None
    except (ParseError, ValueError, LookupError):
        raise _Refused("The outbound message is not well-formed XML.") from None


def _notifications(element: Element) -> OutboundBatch:
    children = list(element)
    header = children[: len(_HEADER)]
    for position, name in enumerate(_HEADER):
        if position >= len(header) or header[position].tag != f"{{{OUTBOUND_NS}}}{name}":
            raise _Refused(f"The notifications element must hold {name} in the WSDL's order.")
    organization_id = _text(header[0])
    if not is_salesforce_id(organization_id, "00D"):
        raise _Refused("The OrganizationId is not a Salesforce organization id.")
    action_id = _text(header[1])
    if not is_salesforce_id(action_id):
        raise _Refused("The ActionId is not a Salesforce id.")
    for url in header[3:5]:
        if _nil(url) or len(url.text or "") > MAX_URL_CHARS or len(url):
            raise _Refused("The EnterpriseUrl and PartnerUrl must be short text.")
    rest = children[len(_HEADER) :]
    if not rest:
        raise _Refused("The outbound message holds no Notification.")
    if len(rest) > MAX_NOTIFICATIONS:
        raise _Refused(f"The outbound message holds more than {MAX_NOTIFICATIONS} notifications.")
    notifications = [_notification(child, n) for n, child in enumerate(rest, start=1)]
    return OutboundBatch(str(organization_id), str(action_id), notifications)


def _notification(element: Element, n: int) -> Notification:
    if element.tag != f"{{{OUTBOUND_NS}}}Notification":
        raise _Refused(f"Element {n} after the header is not a Notification.")
    parts = list(element)
    if len(parts) != 2 or [p.tag for p in parts] != [
        f"{{{OUTBOUND_NS}}}Id",
        f"{{{OUTBOUND_NS}}}sObject",
    ]:
        raise _Refused(f"Notification {n} must hold an Id and then an sObject.")
    notification_id = _text(parts[0])
    if not is_salesforce_id(notification_id):
        raise _Refused(f"Notification {n} has no valid Id.")
    sobject = parts[1]
    match = _TYPE_NAME.fullmatch(sobject.get(f"{{{XSI_NS}}}type", ""))
    if match is None:
        raise _Refused(f"The sObject of notification {n} has no xsi:type naming its object.")
    fields = _fields(sobject, n)
    if fields and not is_salesforce_id(fields.get("Id")):
        raise _Refused(f"The sObject of notification {n} has no valid Id field.")
    return Notification(str(notification_id), match.group(1), fields)


def _fields(sobject: Element, n: int) -> dict[str, str | None]:
    fields: dict[str, str | None] = {}
    for field in sobject:
        namespace, _, name = field.tag[1:].partition("}")
        if not field.tag.startswith("{") or namespace != SOBJECT_NS:
            raise _Refused(f"A field of notification {n} is not in {SOBJECT_NS}.")
        if not _FIELD_NAME.fullmatch(name):
            raise _Refused(f"A field of notification {n} has a name Salesforce never uses.")
        if name in fields:
            raise _Refused(f"Field {name} appears twice in notification {n}.")
        if len(field):
            raise _Refused(f"Field {name} of notification {n} holds elements, not a value.")
        value = None if _nil(field) else field.text or ""
        if value is not None and len(value) > MAX_FIELD_CHARS:
            raise _Refused(f"Field {name} of notification {n} is longer than 32 KB.")
        if len(fields) >= MAX_FIELDS_PER_RECORD:
            raise _Refused(f"Notification {n} holds more than {MAX_FIELDS_PER_RECORD} fields.")
        fields[name] = value
    return fields


def _nil(element: Element) -> bool:
    return element.get(f"{{{XSI_NS}}}nil", "").strip() in ("true", "1")


def _text(element: Element) -> str | None:
    if _nil(element) or len(element):
        return None
    return (element.text or "").strip()


def ack(ok: bool = True) -> bytes:
    """The answer Salesforce reads as delivered (`ok`) or not (it then retries)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}">'
        "<soapenv:Body>"
        f'<notificationsResponse xmlns="{OUTBOUND_NS}">'
        f"<Ack>{'true' if ok else 'false'}</Ack>"
        "</notificationsResponse>"
        "</soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


def soap_fault(message: str) -> bytes:
    """A SOAP 1.1 Client fault carrying `message`, for a message Baton refuses."""
    text = _NOT_XML_CHARS.sub("", str(message))[:MAX_FAULT_CHARS]
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}">'
        "<soapenv:Body>"
        "<soapenv:Fault>"
        "<faultcode>soapenv:Client</faultcode>"
        f"<faultstring>{escape(text)}</faultstring>"
        "</soapenv:Fault>"
        "</soapenv:Body>"
        "</soapenv:Envelope>"
    ).encode()


# --- a Flow's HTTP callout ------------------------------------------------------------------
def parse_flow(body: object) -> list[dict[str, Any]] | str:
    """The records of a Flow callout's decoded JSON (one record, or `{"records": [...]}`),
    or one sentence saying what is wrong."""
    try:
        return _flow(body)
    except _Refused as refused:
        return str(refused)


def _flow(body: object) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise _Refused("The callout must post a JSON object: one record, or records.")
    if "records" in body:
        if set(body) != {"records"}:
            raise _Refused('A callout with "records" must hold nothing else.')
        records = body["records"]
        if not isinstance(records, list) or not records:
            raise _Refused('"records" must be a list of 1 to 200 records.')
        if len(records) > MAX_FLOW_RECORDS:
            raise _Refused(f'"records" holds more than {MAX_FLOW_RECORDS} records.')
    else:
        records = [body]
    return [_flow_record(record, n) for n, record in enumerate(records, start=1)]


def _flow_record(record: object, n: int) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise _Refused(f"Record {n} is not a JSON object.")
    checked = _object(record, n, "", 0)
    if not is_salesforce_id(checked.get("Id")):
        raise _Refused(f"Record {n} has no valid Salesforce Id.")
    return checked


def _object(value: dict[Any, Any], n: int, path: str, depth: int) -> dict[str, Any]:
    where = f"{path.rstrip('.')} in record {n}" if path else f"Record {n}"
    if len(value) > MAX_FIELDS_PER_RECORD:
        raise _Refused(f"{where} holds more than {MAX_FIELDS_PER_RECORD} fields.")
    checked: dict[str, Any] = {}
    for name, item in value.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise _Refused(f"{where} has a field name Salesforce never uses.")
        if name == "attributes":
            checked[name] = _attributes(item, where)
        else:
            checked[name] = _value(item, n, path + name, depth)
    return checked


def _attributes(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= MAX_URL_CHARS
        for k, v in value.items()
    ):
        raise _Refused(f"{where} has attributes unlike a serialized sObject's.")
    return dict(value)


def _value(value: object, n: int, path: str, depth: int) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    where = f"Field {path} of record {n}"
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise _Refused(f"{where} is not a finite number.")
        return value
    if isinstance(value, str):
        if len(value) > MAX_FIELD_CHARS:
            raise _Refused(f"{where} is longer than 32 KB.")
        if _UNSTORABLE.search(value):
            raise _Refused(f"{where} holds a character no database can store.")
        return value
    if isinstance(value, dict):
        if depth + 1 > MAX_RELATIONSHIP_DEPTH:
            raise _Refused(f"{where} nests parent records more than 5 levels deep.")
        return _object(value, n, path + ".", depth + 1)
    kind = "list" if isinstance(value, list) else "value of an unknown kind"
    raise _Refused(f"{where} is a {kind}, not a value or a parent record.")


def flatten(record: dict[str, Any]) -> dict[str, str | None]:
    """A record's fields under dotted names (`Owner.Email`), every value as text: numbers
    in decimal notation, booleans `true`/`false`, null as None. `attributes` are left out."""
    flat: dict[str, str | None] = {}
    _flatten_into(flat, "", record)
    return flat


def _flatten_into(flat: dict[str, str | None], prefix: str, record: dict[str, Any]) -> None:
    for name, value in record.items():
        if name == "attributes":
            continue
        if isinstance(value, dict):
            _flatten_into(flat, f"{prefix}{name}.", value)
        else:
            flat[prefix + name] = _as_text(value)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


# --- the callout's secret -----------------------------------------------------------------------
def authorized(header_value: str | None, secret: str) -> bool:
    """Whether an `Authorization` header is `Bearer <secret>` (compared in constant time);
    an empty secret authorizes nothing."""
    if not isinstance(header_value, str) or not isinstance(secret, str) or not secret:
        return False
    scheme, _, token = header_value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    try:
        given, wanted = token.strip().encode(), secret.encode()
    except UnicodeError:  # a lone surrogate
        return False
    return hmac.compare_digest(given, wanted)
