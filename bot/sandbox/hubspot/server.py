"""A loopback HubSpot: the CRM v3 (and v4 associations) endpoints Baton's client calls, over
real HTTP, with HubSpot's JSON shapes, error bodies, auth and rate limits.

    async with HubSpotSandbox() as hub:          # binds 127.0.0.1 on a free port
        portal = hub.add_portal()
        token = hub.add_token(portal.id)
        deal_id = hub.add_deal(portal.id, {"dealname": "Acme renewal"})
        ...                                      # point BATON_HUBSPOT_API_URL at hub.base_url
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from bot.sandbox.hubspot.state import (
    COMPANY_PROPERTIES,
    DEFAULT_COMPANY_PROPERTIES,
    DEFAULT_DEAL_PROPERTIES,
    PROPERTY_KINDS,
    SEARCH_CAP,
    Owner,
    Portal,
    Record,
    SearchError,
    epoch_ms,
    instant,
    parse_search,
    run_search,
    validate_property_name,
)

log = logging.getLogger(__name__)
# Private apps' limits (HubSpot's "API usage guidelines"): the strict tier, Free/Starter.
BURST_LIMIT = 100  # requests per rolling 10 seconds (190 on Professional/Enterprise)
BURST_WINDOW_S = 10.0
DAILY_LIMIT = 250_000
SEARCH_PER_SECOND = 5  # the search endpoints' own limit, per account
ASSOCIATIONS_BATCH_MAX = 1_000
DEALS_READ = "crm.objects.deals.read"
COMPANIES_READ = "crm.objects.companies.read"
OWNERS_READ = "crm.objects.owners.read"
ALL_SCOPES = frozenset({DEALS_READ, COMPANIES_READ, OWNERS_READ})
_DEAL_TYPES = {"deals", "deal", "0-3"}
_COMPANY_TYPES = {"companies", "company", "0-2"}
_DIGITS = re.compile(r"[0-9]{1,19}")

Reply = tuple[int, Any]  # (HTTP status, JSON body or None for an empty body)


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    status: int
    portal_id: int | None


@dataclass
class Fault:
    prefix: str
    times: int
    status: int
    retry_after: int | None


@dataclass
class Token:
    portal_id: int
    scopes: frozenset[str]
    revoked: bool = False


class _Rolling:
    """The requests of one limit within its window."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()

    def used(self, now: float, window: float) -> int:
        while self.times and self.times[0] <= now - window:
            self.times.popleft()
        return len(self.times)

    def take(self, now: float, limit: int, window: float) -> bool:
        if self.used(now, window) >= limit:
            return False
        self.times.append(now)
        return True


@dataclass
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Callable[[Portal, re.Match[str], web.Request, Any], Reply]
    scopes: frozenset[str]
    search: bool = False


@dataclass
class HubSpotSandbox:
    host: str = "127.0.0.1"
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    monotonic: Callable[[], float] | None = None
    search_cap: int = SEARCH_CAP  # a test lowers it rather than create 10,000 deals
    burst_limit: int = BURST_LIMIT
    search_per_second: int = SEARCH_PER_SECOND
    daily_limit: int = DAILY_LIMIT
    app_id: int = 1_234_567
    # The deal properties whose changes are subscribed to (None: all of them).
    subscriptions: set[str] | None = None

    def __post_init__(self) -> None:
        self._monotonic = self.monotonic or time.monotonic
        self.portals: dict[int, Portal] = {}
        self.tokens: dict[str, Token] = {}
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.limits_enabled = True
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        self._burst: dict[int, _Rolling] = {}
        self._searches: dict[int, _Rolling] = {}
        self._daily: dict[int, int] = {}
        self._next_id = 10_000_000_001
        self._next_event = 1_000
        self._subscription_ids: dict[tuple[str, str | None], int] = {}
        self._routes = [
            _Route("GET", re.compile(r"/account-info/v3/details"), self._account, frozenset()),
            _Route(
                "POST",
                re.compile(r"/crm/v3/objects/deals/search"),
                self._search,
                frozenset({DEALS_READ}),
                search=True,
            ),
            _Route(
                "GET",
                re.compile(r"/crm/v3/objects/deals/(?P<id>[^/]+)"),
                self._get_deal,
                frozenset({DEALS_READ}),
            ),
            _Route(
                "GET",
                re.compile(r"/crm/v3/objects/companies/(?P<id>[^/]+)"),
                self._get_company,
                frozenset({COMPANIES_READ}),
            ),
            _Route(
                "GET",
                re.compile(r"/crm/v3/owners/(?P<id>[^/]+)"),
                self._get_owner,
                frozenset({OWNERS_READ}),
            ),
            _Route(
                "POST",
                re.compile(r"/crm/v4/associations/(?P<src>[^/]+)/(?P<dst>[^/]+)/batch/read"),
                self._read_associations,
                frozenset({DEALS_READ, COMPANIES_READ}),
            ),
        ]

    # --- lifecycle ------------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://{self.host}:{bound}"
        return self.base_url

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> HubSpotSandbox:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    # --- test controls --------------------------------------------------------------------
    def add_portal(
        self, portal_id: int | None = None, *, time_zone: str = "US/Eastern", currency: str = "USD"
    ) -> Portal:
        portal = Portal(portal_id or 20_000_000 + len(self.portals) + 1, time_zone, currency)
        self.portals[portal.id] = portal
        return portal

    def add_token(
        self, portal_id: int, token: str | None = None, scopes: Iterable[str] | None = None
    ) -> str:
        """A private app's access token for the portal (all the read scopes unless given)."""
        token = token or f"pat-na1-{uuid.uuid4()}"
        granted = ALL_SCOPES if scopes is None else frozenset(scopes)
        self.tokens[token] = Token(self._portal(portal_id).id, granted)
        return token

    def revoke_token(self, token: str) -> None:
        self.tokens[token].revoked = True

    def add_owner(
        self,
        portal_id: int,
        email: str | None,
        first_name: str = "",
        last_name: str = "",
        *,
        archived: bool = False,
    ) -> str:
        owner = Owner(
            self._new_id(), email, first_name, last_name, self._new_id(), self.clock(), archived
        )
        self._portal(portal_id).owners[owner.id] = owner
        return str(owner.id)

    def archive_owner(self, portal_id: int, owner_id: str) -> None:
        self._portal(portal_id).owners[int(owner_id)].archived = True

    def add_company(
        self, portal_id: int, name: str, *, at: datetime | None = None, **properties: object
    ) -> str:
        portal, when = self._portal(portal_id), at or self.clock()
        values = {
            key: portal.property_text(COMPANY_PROPERTIES, key, value)
            for key, value in {"name": name, **properties}.items()
        }
        company = Record(self._new_id(), values, when, when)
        portal.companies[company.id] = company
        return str(company.id)

    def define_deal_property(self, portal_id: int, name: str, kind: str = "string") -> None:
        """A custom deal property (renewal_date: "date", csm_owner: "string", ...)."""
        validate_property_name(name)
        if kind not in PROPERTY_KINDS:
            raise ValueError(f"{kind!r} is not one of HubSpot's property types")
        self._portal(portal_id).deal_schema[name] = kind

    def add_deal(
        self,
        portal_id: int,
        properties: Mapping[str, object] | None = None,
        *,
        company_ids: Iterable[str | int] = (),
        at: datetime | None = None,
    ) -> str:
        """A new deal; `company_ids` are associated with it, the first as its primary."""
        portal, when = self._portal(portal_id), at or self.clock()
        values = {
            key: portal.property_text(portal.deal_schema, key, value)
            for key, value in (properties or {}).items()
        }
        companies = [int(company) for company in company_ids]
        for company in companies:
            if company not in portal.companies:
                raise ValueError(f"portal {portal.id} has no company {company}")
        deal = Record(self._new_id(), values, when, when, company_ids=companies)
        portal.deals[deal.id] = deal
        return str(deal.id)

    def deal(self, portal_id: int, deal_id: str | int) -> Record:
        return self._portal(portal_id).deals[int(deal_id)]

    def change_deal(
        self,
        portal_id: int,
        deal_id: str | int,
        changes: Mapping[str, object],
        *,
        at: datetime | None = None,
        source: str = "CRM_UI",
    ) -> list[dict[str, Any]]:
        """Change a deal's properties as someone in HubSpot would: its hs_lastmodifieddate
        moves to `at` (now), and the deal.propertyChange events HubSpot would send for the
        subscribed properties that really changed are returned (fresh eventIds,
        attemptNumber 0)."""
        portal = self._portal(portal_id)
        deal = portal.deals[int(deal_id)]
        when = at or self.clock()
        changed = {}
        for key, value in changes.items():
            text = portal.property_text(portal.deal_schema, key, value)
            if deal.properties.get(key) != text:
                changed[key] = text
        if not changed:
            return []
        deal.properties.update(changed)
        deal.modified = when
        return [
            self._event(
                portal,
                "deal.propertyChange",
                deal.id,
                when,
                propertyName=key,
                propertyValue=text or "",
                changeSource=source,
            )
            for key, text in changed.items()
            if self.subscriptions is None or key in self.subscriptions
        ]

    def creation_events(self, portal_id: int, deal_id: str | int) -> list[dict[str, Any]]:
        """The deal.creation event HubSpot sends for a new deal."""
        portal = self._portal(portal_id)
        deal = portal.deals[int(deal_id)]
        return [
            self._event(
                portal,
                "deal.creation",
                deal.id,
                deal.created,
                changeFlag="CREATED",
                changeSource="CRM_UI",
            )
        ]

    def delete_deal(
        self, portal_id: int, deal_id: str | int, *, at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Archive a deal (HubSpot's delete); returns its deal.deletion event."""
        portal = self._portal(portal_id)
        deal = portal.deals[int(deal_id)]
        when = at or self.clock()
        deal.archived, deal.modified = True, when
        return [
            self._event(
                portal,
                "deal.deletion",
                deal.id,
                when,
                changeFlag="DELETED",
                changeSource="CRM_UI",
            )
        ]

    def associate(self, portal_id: int, deal_id: str | int, company_id: str | int) -> None:
        portal = self._portal(portal_id)
        deal, company = portal.deals[int(deal_id)], int(company_id)
        if company not in portal.companies:
            raise ValueError(f"portal {portal.id} has no company {company}")
        if company not in deal.company_ids:
            deal.company_ids.append(company)

    def fail(
        self, path_prefix: str, times: int = 1, status: int = 500, *, retry_after: int | None = None
    ) -> None:
        """The next `times` authenticated calls whose path starts with `path_prefix` answer
        `status` (429 with HubSpot's rate-limit body; `retry_after` adds a Retry-After)."""
        self.faults.append(Fault(path_prefix, times, status, retry_after))

    def calls_to(self, path_prefix: str) -> list[Call]:
        return [call for call in self.calls if call.path.startswith(path_prefix)]

    # --- request handling -----------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        query = {key: request.query.getall(key) for key in request.query}
        body: Any = None
        portal_id: int | None = None
        headers: dict[str, str] = {}
        route, match = self._route(request.method, path)
        if route is None or match is None:
            status, payload = 404, _error("NOT_FOUND", f"Unable to route {request.method} {path}.")
        else:
            token = self._token(request)
            if isinstance(token, tuple):
                status, payload = token
            else:
                portal_id = token.portal_id
                status, payload, headers, body = await self._serve(request, route, match, token)
        self.calls.append(Call(request.method, path, query, body, status, portal_id))
        if payload is None:
            return web.Response(status=status, headers=headers)
        return web.json_response(payload, status=status, headers=headers)

    async def _serve(
        self, request: web.Request, route: _Route, match: re.Match[str], token: Token
    ) -> tuple[int, Any, dict[str, str], Any]:
        portal = self.portals[token.portal_id]
        limited = self._limited(portal.id, route.search)
        if limited is not None:
            status, payload, headers = limited
            return status, payload, headers, None
        headers = {} if route.search else self._limit_headers(portal.id)
        fault = self._take_fault(request.path)
        if fault is not None:
            status, payload = _failure(fault)
            if fault.retry_after is not None:
                headers["Retry-After"] = str(fault.retry_after)
            return status, payload, headers, None
        missing = route.scopes - token.scopes
        if missing:
            return 403, _missing_scopes(missing), headers, None
        body: Any = None
        if request.method == "POST":
            parsed = await _json_body(request)
            if isinstance(parsed, tuple):
                return parsed[0], parsed[1], headers, None
            body = parsed
        try:
            status, payload = route.handler(portal, match, request, body)
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            # A body of a shape this sandbox did not foresee: HubSpot answers 400, never 5xx.
            log.warning("HubSpot sandbox %s: malformed request (%r)", request.path, exc)
            status, payload = 400, _error("VALIDATION_ERROR", f"Invalid input: {exc}.")
        return status, payload, headers, body

    def _route(self, method: str, path: str) -> tuple[_Route | None, re.Match[str] | None]:
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is not None and route.method == method:
                return route, match
        return None, None

    def _token(self, request: web.Request) -> Token | Reply:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer ") or not header[7:].strip():
            return 401, _error(
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at "
                "https://developers.hubspot.com/docs/methods/auth/oauth-overview",
            )
        token = self.tokens.get(header[7:].strip())
        if token is None or token.revoked:
            return 401, _error(
                "INVALID_AUTHENTICATION",
                "The access token provided is invalid or has been revoked.",
            )
        return token

    def _limited(self, portal_id: int, search: bool) -> tuple[int, Any, dict[str, str]] | None:
        """None if the call is within the limits (and counted), else HubSpot's 429."""
        if not self.limits_enabled:
            return None
        now = self._monotonic()
        if self._daily.get(portal_id, 0) >= self.daily_limit:
            return 429, _rate_limited("DAILY", "daily"), self._limit_headers(portal_id)
        burst = self._burst.setdefault(portal_id, _Rolling())
        if burst.used(now, BURST_WINDOW_S) >= self.burst_limit:
            return (
                429,
                _rate_limited("TEN_SECONDLY_ROLLING", "ten_secondly_rolling"),
                self._limit_headers(portal_id),
            )
        if search and not self._searches.setdefault(portal_id, _Rolling()).take(
            now, self.search_per_second, 1.0
        ):
            return 429, _rate_limited("SECONDLY", "secondly"), {}  # search sends no headers
        burst.take(now, self.burst_limit, BURST_WINDOW_S)
        self._daily[portal_id] = self._daily.get(portal_id, 0) + 1
        return None

    def _limit_headers(self, portal_id: int) -> dict[str, str]:
        used = self._burst.get(portal_id, _Rolling()).used(self._monotonic(), BURST_WINDOW_S)
        daily = self._daily.get(portal_id, 0)
        return {
            "X-HubSpot-RateLimit-Daily": str(self.daily_limit),
            "X-HubSpot-RateLimit-Daily-Remaining": str(max(0, self.daily_limit - daily)),
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(BURST_WINDOW_S * 1000)),
            "X-HubSpot-RateLimit-Max": str(self.burst_limit),
            "X-HubSpot-RateLimit-Remaining": str(max(0, self.burst_limit - used)),
            "X-HubSpot-RateLimit-Secondly": str(self.burst_limit // 10),
            "X-HubSpot-RateLimit-Secondly-Remaining": str(max(0, (self.burst_limit - used) // 10)),
        }

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and path.startswith(fault.prefix):
                fault.times -= 1
                return fault
        return None

    # --- endpoints ------------------------------------------------------------------------
    def _account(self, portal: Portal, _m: re.Match[str], _r: web.Request, _b: Any) -> Reply:
        return 200, portal.account_json()

    def _get_deal(
        self, portal: Portal, match: re.Match[str], request: web.Request, _b: Any
    ) -> Reply:
        raw = match.group("id")
        deal = _find(portal.deals, raw)
        if deal is None or deal.archived != _archived(request):
            return 404, _not_found(raw)
        reply = deal.json(
            _listed(request, "properties"), DEFAULT_DEAL_PROPERTIES, portal.deal_schema
        )
        kinds = set(_listed(request, "associations") or [])
        if kinds & _COMPANY_TYPES and deal.company_ids:
            results = []
            for index, company in enumerate(deal.company_ids):
                if index == 0:  # the primary company is listed twice, labelled and not
                    results.append({"id": str(company), "type": "deal_to_company"})
                results.append({"id": str(company), "type": "deal_to_company_unlabeled"})
            reply["associations"] = {"companies": {"results": results}}
        return 200, reply

    def _get_company(
        self, portal: Portal, match: re.Match[str], request: web.Request, _b: Any
    ) -> Reply:
        raw = match.group("id")
        company = _find(portal.companies, raw)
        if company is None or company.archived != _archived(request):
            return 404, _not_found(raw)
        return 200, company.json(
            _listed(request, "properties"), DEFAULT_COMPANY_PROPERTIES, COMPANY_PROPERTIES
        )

    def _get_owner(
        self, portal: Portal, match: re.Match[str], request: web.Request, _b: Any
    ) -> Reply:
        raw = match.group("id")
        by = request.query.get("idProperty", "id")
        if by not in {"id", "userId"}:
            return 400, _error("VALIDATION_ERROR", f"idProperty must be id or userId, not {by}.")
        if not _DIGITS.fullmatch(raw):
            return 400, _error("VALIDATION_ERROR", f"Unable to parse owner id {raw[:40]!r}.")
        wanted = int(raw)
        for owner in portal.owners.values():
            key = owner.id if by == "id" else owner.user_id
            if key == wanted and owner.archived == _archived(request):
                return 200, owner.json()
        return 404, _error("OBJECT_NOT_FOUND", f"Owner {raw} was not found.")

    def _search(self, portal: Portal, _m: re.Match[str], _r: web.Request, body: Any) -> Reply:
        try:
            return 200, run_search(portal, parse_search(body), self.search_cap)
        except SearchError as exc:
            return 400, _error("VALIDATION_ERROR", str(exc))

    def _read_associations(
        self, portal: Portal, match: re.Match[str], _r: web.Request, body: Any
    ) -> Reply:
        if match.group("src") not in _DEAL_TYPES or match.group("dst") not in _COMPANY_TYPES:
            return 400, _error("VALIDATION_ERROR", "This sandbox reads deal→company only.")
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list) or not inputs:
            return 400, _error("VALIDATION_ERROR", "inputs must be a non-empty list.")
        if len(inputs) > ASSOCIATIONS_BATCH_MAX:
            return 400, _error(
                "VALIDATION_ERROR", f"A batch may read at most {ASSOCIATIONS_BATCH_MAX} inputs."
            )
        started = instant(self.clock())
        results, errors = [], []
        for item in inputs:
            raw = str(item.get("id")) if isinstance(item, dict) else ""
            deal = _find(portal.deals, raw)
            if deal is None or deal.archived or not deal.company_ids:
                errors.append(_no_associations(raw))
                continue
            results.append({"from": {"id": str(deal.id)}, "to": _associated(deal)})
        reply: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": instant(self.clock()),
        }
        if errors:
            reply.update(numErrors=len(errors), errors=errors)
        return (207 if errors else 200), reply

    # --- helpers --------------------------------------------------------------------------
    def _portal(self, portal_id: int) -> Portal:
        if portal_id not in self.portals:
            raise KeyError(f"no portal {portal_id}: add_portal() first")
        return self.portals[portal_id]

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _event(
        self, portal: Portal, kind: str, object_id: int, at: datetime, **extra: object
    ) -> dict[str, Any]:
        self._next_event += 1
        key = (kind, extra.get("propertyName"))  # type: ignore[arg-type]
        subscription = self._subscription_ids.setdefault(key, 500_000 + len(self._subscription_ids))
        return {
            "eventId": self._next_event,
            "subscriptionId": subscription,
            "portalId": portal.id,
            "appId": self.app_id,
            "occurredAt": epoch_ms(at),
            "subscriptionType": kind,
            "attemptNumber": 0,
            "objectId": object_id,
            **extra,
        }


def _find(records: Mapping[int, Record], raw: str) -> Record | None:
    return records.get(int(raw)) if _DIGITS.fullmatch(raw) else None


def _archived(request: web.Request) -> bool:
    return request.query.get("archived", "false").lower() == "true"


def _listed(request: web.Request, name: str) -> list[str] | None:
    """A list parameter given repeated, comma-separated, or both (HubSpot reads all three)."""
    values = [part.strip() for raw in request.query.getall(name, []) for part in raw.split(",")]
    return [value for value in values if value] or None


def _associated(deal: Record) -> list[dict[str, Any]]:
    unlabeled = {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": None}
    primary = {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"}
    return [
        {"toObjectId": company, "associationTypes": [primary, unlabeled] if i == 0 else [unlabeled]}
        for i, company in enumerate(deal.company_ids)
    ]


async def _json_body(request: web.Request) -> Any:
    """The JSON body of a POST, or (status, error body) as HubSpot refuses it."""
    if request.content_type != "application/json":
        return 415, _error(
            "VALIDATION_ERROR", f"Content type '{request.content_type}' not supported."
        )
    raw = await request.read()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        return 400, _error("VALIDATION_ERROR", f"Invalid input JSON: {exc}.")


def _error(category: str, message: str, **extra: object) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
        **extra,
    }


def _not_found(raw: str) -> dict[str, Any]:
    return _error(
        "OBJECT_NOT_FOUND",
        "Object not found.  objectId are usually numeric.",
        context={"id": [raw]},
    )


def _no_associations(raw: str) -> dict[str, Any]:
    return {
        "status": "error",
        "category": "OBJECT_NOT_FOUND",
        "subCategory": "crm.associations.NO_ASSOCIATIONS_FOUND",
        "context": {"fromObjectId": [raw]},
        "links": {},
        "message": f"No company is associated with deal {raw}.",
        "errors": [],
    }


def _missing_scopes(missing: frozenset[str]) -> dict[str, Any]:
    return _error(
        "MISSING_SCOPES",
        "This app hasn't been granted all required scopes to make this call. Read more about "
        "required scopes here: https://developers.hubspot.com/scopes.",
        errors=[
            {
                "message": "One or more of the following scopes are required.",
                "context": {"requiredGranularScopes": sorted(missing)},
            }
        ],
        links={"scopes": "https://developers.hubspot.com/scopes"},
    )


def _rate_limited(policy: str, name: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": f"You have reached your {name} limit.",
        "errorType": "RATE_LIMIT",
        "correlationId": str(uuid.uuid4()),
        "policyName": policy,
        "requestId": str(uuid.uuid4()),
        "category": "RATE_LIMITS",
    }


def _failure(fault: Fault) -> Reply:
    if fault.status == 429:
        return 429, _rate_limited("TEN_SECONDLY_ROLLING", "ten_secondly_rolling")
    if fault.status >= 500:
        return fault.status, _error("INTERNAL_ERROR", "internal error")
    return fault.status, _error("VALIDATION_ERROR", f"injected failure {fault.status}")
