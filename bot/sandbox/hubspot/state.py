"""What a loopback HubSpot holds: portals with their owners, companies and deals, and the
CRM v3 search over deals, with HubSpot's shapes and limits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Properties every deal has, by kind (HubSpot's "type"). A portal adds its own custom ones.
DEAL_PROPERTIES = {
    "dealname": "string",
    "amount": "number",
    "closedate": "datetime",
    "dealstage": "enumeration",
    "pipeline": "enumeration",
    "hubspot_owner_id": "enumeration",
    "description": "string",
    "createdate": "datetime",
    "hs_lastmodifieddate": "datetime",
    "hs_object_id": "number",
}
COMPANY_PROPERTIES = {
    "name": "string",
    "domain": "string",
    "createdate": "datetime",
    "hs_lastmodifieddate": "datetime",
    "hs_object_id": "number",
}
PROPERTY_KINDS = {"string", "number", "date", "datetime", "enumeration", "bool"}
# A read with no `properties` returns these; one with them adds these three.
DEFAULT_DEAL_PROPERTIES = (
    "amount",
    "closedate",
    "createdate",
    "dealname",
    "dealstage",
    "hs_lastmodifieddate",
    "hs_object_id",
    "pipeline",
)
DEFAULT_COMPANY_PROPERTIES = ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name")
ALWAYS_RETURNED = ("createdate", "hs_lastmodifieddate", "hs_object_id")

# CRM search limits (HubSpot's "Search the CRM" guide, Limitations).
SEARCH_MAX_LIMIT = 200
SEARCH_DEFAULT_LIMIT = 10
SEARCH_CAP = 10_000  # results one query can page through; paging further is a 400
SEARCH_MAX_GROUPS = 5
SEARCH_MAX_FILTERS_PER_GROUP = 6
SEARCH_MAX_FILTERS = 18
SEARCH_MAX_QUERY = 3_000
OPERATORS = {
    "EQ",
    "NEQ",
    "LT",
    "LTE",
    "GT",
    "GTE",
    "BETWEEN",
    "IN",
    "NOT_IN",
    "HAS_PROPERTY",
    "NOT_HAS_PROPERTY",
}
_PROPERTY_NAME = re.compile(r"[a-z][a-z0-9_]{0,99}")


class SearchError(Exception):
    """A search HubSpot refuses with 400 VALIDATION_ERROR, and its message."""


def instant(at: datetime) -> str:
    """A datetime as HubSpot writes one: UTC, milliseconds only when there are some
    ("2027-01-31T00:00:00Z", "2019-10-30T03:30:17.883Z")."""
    if at.tzinfo is None:
        raise ValueError("HubSpot's times are instants: give a datetime with a timezone")
    at = at.astimezone(UTC)
    base = at.strftime("%Y-%m-%dT%H:%M:%S")
    millis = at.microsecond // 1000
    return f"{base}.{millis:03d}Z" if millis else f"{base}Z"


def epoch_ms(at: datetime) -> int:
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return int(at.astimezone(UTC).timestamp() * 1000)


def parse_instant(text: str) -> datetime:
    """HubSpot's text of a datetime (or a date, read as midnight UTC)."""
    at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


@dataclass
class Owner:
    id: int
    email: str | None
    first_name: str
    last_name: str
    user_id: int
    created: datetime
    archived: bool = False

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "email": self.email,
            "type": "PERSON",
            "firstName": self.first_name,
            "lastName": self.last_name,
            "userId": self.user_id,
            "userIdIncludingInactive": self.user_id,
            "createdAt": instant(self.created),
            "updatedAt": instant(self.created),
            "archived": self.archived,
            "teams": [],
        }


@dataclass
class Record:
    """A company or a deal: HubSpot keeps every property value as text (or none)."""

    id: int
    properties: dict[str, str | None]
    created: datetime
    modified: datetime
    archived: bool = False
    company_ids: list[int] = field(default_factory=list)  # a deal's; the first is primary

    def json(
        self, names: list[str] | None, defaults: tuple[str, ...], schema: Mapping[str, str]
    ) -> dict[str, Any]:
        """The record as a read returns it: the properties asked for (or the defaults) that
        the schema knows, null where unset; names it does not know are left out."""
        wanted = list(defaults) if not names else [*names, *ALWAYS_RETURNED]
        known = {**self.properties, **self._system()}
        properties = {name: known.get(name) for name in dict.fromkeys(wanted) if name in schema}
        return {
            "id": str(self.id),
            "properties": properties,
            "createdAt": instant(self.created),
            "updatedAt": instant(self.modified),
            "archived": self.archived,
        }

    def _system(self) -> dict[str, str]:
        return {
            "createdate": instant(self.created),
            "hs_lastmodifieddate": instant(self.modified),
            "hs_object_id": str(self.id),
        }

    def value(self, name: str) -> str | None:
        return self._system().get(name, self.properties.get(name))


@dataclass
class Portal:
    """One HubSpot account (hub): its time zone, schema, owners, companies and deals."""

    id: int
    time_zone: str = "US/Eastern"
    currency: str = "USD"
    deal_schema: dict[str, str] = field(default_factory=lambda: dict(DEAL_PROPERTIES))
    owners: dict[int, Owner] = field(default_factory=dict)
    companies: dict[int, Record] = field(default_factory=dict)
    deals: dict[int, Record] = field(default_factory=dict)

    def account_json(self) -> dict[str, Any]:
        return {
            "portalId": self.id,
            "accountType": "STANDARD",
            "timeZone": self.time_zone,
            "companyCurrency": self.currency,
            "additionalCurrencies": [],
            "utcOffset": "+00:00",
            "utcOffsetMilliseconds": 0,
            "uiDomain": "app.hubspot.com",
            "dataHostingLocation": "na1",
        }

    def property_text(self, schema: Mapping[str, str], name: str, value: object) -> str | None:
        """A value set through a test helper, stored as HubSpot would store it."""
        kind = schema.get(name)
        if kind is None:
            raise ValueError(f"portal {self.id} has no property {name!r}: define it first")
        if name in ALWAYS_RETURNED:
            raise ValueError(f"{name} is HubSpot's own property and cannot be set")
        if value is None or value == "":
            return None
        if kind == "datetime":
            if isinstance(value, datetime):
                return instant(value)
            if isinstance(value, date):
                return instant(datetime(value.year, value.month, value.day, tzinfo=UTC))
        if kind == "date" and isinstance(value, date | datetime):
            return (value.date() if isinstance(value, datetime) else value).isoformat()
        if kind == "bool" and isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            return value
        raise ValueError(f"{value!r} is not a value for {kind} property {name}")


def validate_property_name(name: str) -> None:
    if not _PROPERTY_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a HubSpot property name (a-z, 0-9, _)")


# --- search ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filter:
    name: str
    operator: str
    value: Any
    high: Any
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Search:
    groups: tuple[tuple[Filter, ...], ...]
    sort: tuple[str, bool] | None  # (property, descending)
    query: str | None
    properties: list[str] | None
    limit: int
    offset: int


_SEARCH_KEYS = {"filterGroups", "sorts", "query", "properties", "limit", "after"}


def parse_search(body: object) -> Search:
    """A search request as HubSpot reads it; SearchError for what it refuses."""
    if not isinstance(body, dict):
        raise SearchError("Invalid input JSON: the search request must be a JSON object.")
    unknown = set(body) - _SEARCH_KEYS
    if unknown:
        raise SearchError(f"Invalid input JSON: Unrecognized field {sorted(unknown)[0]!r}.")
    limit = body.get("limit", SEARCH_DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise SearchError("limit must be a whole number of at least 1.")
    if limit > SEARCH_MAX_LIMIT:
        raise SearchError(f"limit must be less than or equal to {SEARCH_MAX_LIMIT}.")
    return Search(
        groups=_groups(body.get("filterGroups") or []),
        sort=_sort(body.get("sorts") or []),
        query=_query(body.get("query")),
        properties=_names(body.get("properties")),
        limit=limit,
        offset=_offset(body.get("after")),
    )


def _groups(raw: object) -> tuple[tuple[Filter, ...], ...]:
    if not isinstance(raw, list):
        raise SearchError("filterGroups must be a list.")
    if len(raw) > SEARCH_MAX_GROUPS:
        raise SearchError(f"A search may have at most {SEARCH_MAX_GROUPS} filterGroups.")
    groups = []
    for group in raw:
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list) or not filters:
            raise SearchError("Each filterGroup must have a non-empty list of filters.")
        if len(filters) > SEARCH_MAX_FILTERS_PER_GROUP:
            raise SearchError(
                f"A filterGroup may have at most {SEARCH_MAX_FILTERS_PER_GROUP} filters."
            )
        groups.append(tuple(_filter(item) for item in filters))
    if sum(len(group) for group in groups) > SEARCH_MAX_FILTERS:
        raise SearchError(f"A search may have at most {SEARCH_MAX_FILTERS} filters in total.")
    return tuple(groups)


def _filter(raw: object) -> Filter:
    if not isinstance(raw, dict):
        raise SearchError("Each filter must be a JSON object.")
    name, operator = raw.get("propertyName"), raw.get("operator")
    if not isinstance(name, str) or not name:
        raise SearchError("Each filter needs a propertyName.")
    if operator not in OPERATORS:
        raise SearchError(f"Unknown filter operator {operator!r}.")
    values = raw.get("values") or []
    if operator in {"IN", "NOT_IN"} and (not isinstance(values, list) or not values):
        raise SearchError(f"A filter with {operator} needs a list of values.")
    value = raw.get("value")
    needs_value = operator not in {"HAS_PROPERTY", "NOT_HAS_PROPERTY", "IN", "NOT_IN"}
    if needs_value and (not isinstance(value, str | int | float) or isinstance(value, bool)):
        raise SearchError(f"A filter with {operator} needs a value.")
    if operator == "BETWEEN" and not isinstance(raw.get("highValue"), str | int | float):
        raise SearchError("A filter with BETWEEN needs a highValue.")
    return Filter(name, operator, raw.get("value"), raw.get("highValue"), tuple(values))


def _sort(raw: object) -> tuple[str, bool] | None:
    if not isinstance(raw, list):
        raise SearchError("sorts must be a list.")
    if len(raw) > 1:
        raise SearchError("A search may sort by one property only.")
    if not raw or not isinstance(raw[0], dict):
        # HubSpot ignores a sort given as a string (the SDKs' list[str] type invites one).
        return None
    name, direction = raw[0].get("propertyName"), raw[0].get("direction", "ASCENDING")
    if not isinstance(name, str) or direction not in {"ASCENDING", "DESCENDING"}:
        raise SearchError("A sort needs a propertyName and a direction ASCENDING or DESCENDING.")
    return name, direction == "DESCENDING"


def _query(raw: object) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or len(raw) > SEARCH_MAX_QUERY:
        raise SearchError(f"query must be text of at most {SEARCH_MAX_QUERY} characters.")
    return raw


def _names(raw: object) -> list[str] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise SearchError("properties must be a list of property names.")
    return raw


def _offset(raw: object) -> int:
    if raw is None:
        return 0
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    if not isinstance(text, str) or not text.isascii() or not text.isdigit() or len(text) > 9:
        raise SearchError("after must be the paging cursor of a previous page.")
    return int(text)


def run_search(portal: Portal, search: Search, cap: int = SEARCH_CAP) -> dict[str, Any]:
    """One page of the deals matching `search`, as HubSpot answers it."""
    if search.offset >= cap:
        raise SearchError(
            f"Paging past {cap} results is not supported: narrow the search and start again."
        )
    matches = [
        deal
        for deal in portal.deals.values()
        if not deal.archived and _matches(portal, deal, search)
    ]
    matches.sort(key=lambda deal: deal.id)  # HubSpot's order without a sort is its own
    if search.sort is not None:
        name, descending = search.sort
        kind = portal.deal_schema.get(name, "string")
        present = [deal for deal in matches if deal.value(name) is not None]
        absent = [deal for deal in matches if deal.value(name) is None]
        present.sort(key=lambda deal: _key(kind, deal.value(name)), reverse=descending)
        matches = present + absent
    end = min(search.offset + search.limit, cap, len(matches))
    page = matches[search.offset : end]
    body: dict[str, Any] = {
        "total": len(matches),
        "results": [
            deal.json(search.properties, DEFAULT_DEAL_PROPERTIES, portal.deal_schema)
            for deal in page
        ],
    }
    if end < len(matches):
        body["paging"] = {"next": {"after": str(end), "link": None}}
    return body


def _matches(portal: Portal, deal: Record, search: Search) -> bool:
    if (
        search.query is not None
        and search.query.lower() not in (deal.value("dealname") or "").lower()
    ):
        return False
    if not search.groups:
        return True
    return any(all(_holds(portal, deal, test) for test in group) for group in search.groups)


def _holds(portal: Portal, deal: Record, test: Filter) -> bool:
    kind = portal.deal_schema.get(test.name, "string")
    value = deal.value(test.name)
    if test.operator == "HAS_PROPERTY":
        return value is not None
    if test.operator == "NOT_HAS_PROPERTY":
        return value is None
    if test.operator in {"IN", "NOT_IN"}:
        inside = value is not None and _key(kind, value) in {
            _operand(kind, item) for item in test.values
        }
        return inside if test.operator == "IN" else not inside
    operand = _operand(kind, test.value)
    if value is None:
        return test.operator == "NEQ"
    mine = _key(kind, value)
    if test.operator == "BETWEEN":
        return operand <= mine <= _operand(kind, test.high)
    return {
        "EQ": mine == operand,
        "NEQ": mine != operand,
        "LT": mine < operand,
        "LTE": mine <= operand,
        "GT": mine > operand,
        "GTE": mine >= operand,
    }[test.operator]


def _key(kind: str, text: str) -> Any:
    """A stored value in the order HubSpot compares it."""
    if kind in {"datetime", "date"}:
        return epoch_ms(parse_instant(text))
    if kind == "number":
        try:
            return Decimal(text)
        except InvalidOperation:
            return Decimal(0)
    return text.lower()


def _operand(kind: str, raw: Any) -> Any:
    """A filter's value: dates as ms since the epoch (or ISO 8601), numbers, or text."""
    text = str(raw)
    try:
        if kind in {"datetime", "date"}:
            if text.isdigit():
                return int(text)
            return epoch_ms(parse_instant(text))
        if kind == "number":
            return Decimal(text)
    except (ValueError, InvalidOperation) as exc:
        raise SearchError(f"{text[:40]!r} is not a valid value for a {kind} property.") from exc
    return text.lower()
