"""HubSpot's webhooks as plain rules: the v3 request signature and the shapes of the bodies.

Only the v3 signature is checked (`X-HubSpot-Signature-v3`, HubSpot's "Validating requests"
guide): base64 of HMAC-SHA256, keyed with the app's client secret, over
method + URI + body + `X-HubSpot-Request-Timestamp` (ms since the epoch). HubSpot still sends
the older v1 (webhooks API) or v2 (workflow webhooks) signatures alongside it; they carry no
timestamp, so a captured request could be replayed for ever, and Baton ignores them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
MAX_SKEW_MS = 5 * 60 * 1000  # HubSpot: reject a timestamp older than 5 minutes (and Baton: newer)
MAX_EVENTS = 100  # the webhooks API sends at most 100 events in one request
MAX_ID = 2**63  # HubSpot's ids are 64-bit; anything at or above this is not one of them
MAX_PROPERTY_NAME = 256
MAX_PROPERTY_VALUE = 65_536  # HubSpot's limit on a property value
MAX_WORKFLOW_PROPERTIES = 1_000
DEAL_OBJECT_TYPE_ID = "0-3"  # deals in HubSpot's generic ("object.*") subscriptions

# The URL-encoded characters HubSpot decodes in the URI before it signs (and nothing else:
# "%20" or "%25" stay as they are). One pass, so "%253A" never becomes ":".
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ENCODED = re.compile("|".join(_DECODED), re.IGNORECASE)
_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{42,44}={0,2}")  # 32 bytes in base64
_TIMESTAMP = re.compile(r"[0-9]{1,16}")
_SUBSCRIPTION_TYPE = re.compile(r"[A-Za-z_]{1,50}\.[A-Za-z_]{1,50}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def signed_uri(uri: str) -> str:
    """The URI as HubSpot signs it: the twelve characters of its table decoded."""
    return _ENCODED.sub(lambda match: _DECODED[match.group(0).upper()], uri)


def signature_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """HubSpot's X-HubSpot-Signature-v3 of a request (`uri` is the full URL HubSpot called)."""
    source = (method + signed_uri(uri)).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def is_signed_v3(
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    headers: Mapping[str, str],
    now_ms: int,
) -> bool:
    """True only for a request HubSpot signed with `secret` within 5 minutes of `now_ms`."""
    signature = _header(headers, SIGNATURE_HEADER)
    timestamp = _header(headers, TIMESTAMP_HEADER)
    if signature is None or not _SIGNATURE.fullmatch(signature):
        return False
    if timestamp is None or not _TIMESTAMP.fullmatch(timestamp):
        return False
    if abs(now_ms - int(timestamp)) > MAX_SKEW_MS:
        return False
    if not secret or not isinstance(method, str) or not isinstance(uri, str):
        return False
    try:
        body.decode("utf-8")  # HubSpot signs UTF-8 text: any other body is not from HubSpot
        expected = signature_v3(secret, method, uri, body, timestamp)
    except (UnicodeError, AttributeError, TypeError):
        return False
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii"))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value whatever the case of its name; None if absent or not text."""
    try:
        value = headers.get(name)
        if value is None:
            lowered = name.lower()
            value = next(
                (v for k, v in headers.items() if isinstance(k, str) and k.lower() == lowered),
                None,
            )
    except (AttributeError, TypeError, ValueError):
        return None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class DealEvent:
    """One event of a webhooks API batch. Events about other objects (contacts, companies)
    parse too: `is_deal` tells them apart."""

    event_id: int
    portal_id: int
    object_id: int
    subscription_type: str  # "deal.propertyChange", "deal.creation", "contact.creation", ...
    property_name: str | None
    property_value: str | None
    occurred_at: datetime  # UTC
    attempt: int  # 0 for the first delivery, then HubSpot's retries
    app_id: int | None = None
    change_source: str | None = None

    @property
    def is_deal(self) -> bool:
        return self.subscription_type.startswith("deal.")


class _Refused(Exception):
    """One sentence saying what is wrong with a body."""


def parse_events(body: object) -> list[DealEvent] | str:
    """The events of a webhooks API body (a JSON array of up to 100), or one sentence saying
    what is wrong with it."""
    if not isinstance(body, list):
        return "The webhook body is not a JSON array of events."
    if len(body) > MAX_EVENTS:
        return f"The webhook body has {len(body)} events; HubSpot sends at most {MAX_EVENTS}."
    try:
        return [_event(number, item) for number, item in enumerate(body, start=1)]
    except _Refused as refused:
        return str(refused)


def _event(number: int, item: object) -> DealEvent:
    if not isinstance(item, dict):
        raise _Refused(f"Event {number} is not a JSON object.")
    get = item.get
    where = f"Event {number}"
    subscription_type = _text(get("subscriptionType"), f"{where}'s subscriptionType", 101)
    if subscription_type is None or not _SUBSCRIPTION_TYPE.fullmatch(subscription_type):
        raise _Refused(f"{where} has no subscriptionType such as deal.propertyChange.")
    generic = subscription_type.startswith("object.")  # a generic subscription names its type
    if generic and get("objectTypeId") == DEAL_OBJECT_TYPE_ID:
        subscription_type = "deal." + subscription_type.removeprefix("object.")
    property_name = _text(get("propertyName"), f"{where}'s propertyName", MAX_PROPERTY_NAME)
    if subscription_type.endswith(".propertyChange") and not property_name:
        raise _Refused(f"{where} is a property change that names no propertyName.")
    occurred_ms = _whole(get("occurredAt"), f"{where}'s occurredAt", 1, _LAST_MS + 1)
    for field in ("subscriptionId", "appId"):
        _whole(get(field), f"{where}'s {field}", 1, MAX_ID)
    return DealEvent(
        event_id=_whole(get("eventId"), f"{where}'s eventId", 1, MAX_ID),
        portal_id=_whole(get("portalId"), f"{where}'s portalId", 1, MAX_ID),
        object_id=_whole(get("objectId"), f"{where}'s objectId", 1, MAX_ID),
        subscription_type=subscription_type,
        property_name=property_name,
        property_value=_text(get("propertyValue"), f"{where}'s propertyValue", MAX_PROPERTY_VALUE),
        occurred_at=_EPOCH + timedelta(milliseconds=occurred_ms),
        attempt=_whole(get("attemptNumber"), f"{where}'s attemptNumber", 0, 2**31),
        app_id=get("appId"),
        change_source=_text(get("changeSource"), f"{where}'s changeSource", 100),
    )


def _whole(value: object, what: str, low: int, high: int) -> int:
    """`value` if it is a whole number in [low, high), else refused."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value < high:
        kind = "a positive whole number" if low > 0 else "a whole number of at least 0"
        raise _Refused(f"{what} is missing or not {kind} below {high}.")
    return value


def _text(value: object, what: str, longest: int) -> str | None:
    """`value` if it is text of at most `longest` characters (None if absent), else refused."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > longest:
        raise _Refused(f"{what} is not text of at most {longest} characters.")
    return value


def parse_workflow(body: object) -> dict[str, str] | str:
    """The deal properties a workflow's "Send a webhook" action posted, flat (name → text),
    with `hs_object_id` from the record's `objectId`; or one sentence saying what is wrong.

    Two shapes: "include all properties" sends the record with `objectId` and `properties`
    whose values are {"value", "timestamp", "versions"}; chosen properties arrive as one flat
    object of name → value (include the Record ID, `hs_object_id`, among them). A property
    with no value (null) is left out."""
    if not isinstance(body, dict):
        return "The workflow webhook body is not a JSON object."
    try:
        nested = body.get("properties")
        if isinstance(nested, dict):
            flat = _properties(nested, nested=True)
            record_id = body.get("objectId", body.get("id", flat.get("hs_object_id")))
        else:
            flat = _properties(body, nested=False)
            record_id = flat.get("hs_object_id", body.get("objectId"))
        flat["hs_object_id"] = str(_record_id(record_id))
    except _Refused as refused:
        return str(refused)
    return flat


def _properties(source: dict, *, nested: bool) -> dict[str, str]:
    if len(source) > MAX_WORKFLOW_PROPERTIES:
        raise _Refused(
            f"The workflow webhook has {len(source)} properties; Baton reads at most "
            f"{MAX_WORKFLOW_PROPERTIES}."
        )
    flat: dict[str, str] = {}
    for name, raw in source.items():
        if not isinstance(name, str) or not 0 < len(name) <= MAX_PROPERTY_NAME:
            raise _Refused("The workflow webhook has a property name that is empty or too long.")
        value = raw.get("value") if nested and isinstance(raw, dict) else raw
        if not nested and name == "objectId":
            continue  # the record's id, not one of its properties (read as hs_object_id)
        text = _scalar(value, name)
        if text is not None:
            flat[name] = text
    return flat


def _scalar(value: object, name: str) -> str | None:
    """A property value as HubSpot writes it in text; None for no value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) < MAX_ID:
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, str) and len(value) <= MAX_PROPERTY_VALUE:
        return value
    shown = name if len(name) <= 64 else name[:61] + "..."
    raise _Refused(
        f"The workflow webhook's property {shown!r} is not text, a number or true/false "
        f"of at most {MAX_PROPERTY_VALUE} characters."
    )


def _record_id(value: object) -> int:
    """A deal's record id given as a number or as its digits."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 19:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < MAX_ID:
        raise _Refused(
            "The workflow webhook has no objectId or hs_object_id that is a HubSpot record ID."
        )
    return value
