"""Baton's HubSpot client: the few CRM reads Baton makes, on hubspot-api-client.

Synchronous: callers run it in a worker thread. Every failure is one `HubSpotError` whose
text is one sentence. The library makes the requests (its `Configuration.host` is
BATON_HUBSPOT_API_URL; its urllib3 pool retries 429s and 5xx with `HubSpotRetry`, a bounded
number of times, honouring Retry-After); Baton reads the JSON answers itself, bounded, rather
than through the library's models, which refuse answers that lack fields HubSpot does not
always send (an owner's `type`, a batch error's `links`).
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import urllib3
from hubspot import HubSpot
from hubspot.crm.associations import v4 as associations_v4
from hubspot.crm.companies.exceptions import ApiException as CompaniesApiException
from hubspot.crm.deals import Filter, FilterGroup, PublicObjectSearchRequest
from hubspot.crm.deals.exceptions import ApiException as DealsApiException
from hubspot.crm.owners.exceptions import ApiException as OwnersApiException
from urllib3.exceptions import MaxRetryError, ResponseError
from urllib3.util.retry import Retry

DEFAULT_API_URL = "https://api.hubapi.com"
TOKEN_REFUSED = "BATON_HUBSPOT_TOKEN was refused by HubSpot."
SEARCH_CAP = 10_000  # HubSpot's search pages through at most this many results of one query
SEARCH_PAGE = 200  # the most one search page returns
MAX_ID = 2**63
MAX_BODY = 16 * 1024 * 1024
MAX_PROPERTIES = 200  # property names in one read (they go in the URL)
OWNER_CACHE = 10_000
_ID = re.compile(r"[0-9]{1,19}")
_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
_TOKEN = re.compile(r"[\x21-\x7e]{1,512}")
_RETRY_STATUSES = (429, 500, 502, 503, 504)
_API_ERRORS = (
    DealsApiException,
    OwnersApiException,
    CompaniesApiException,
    associations_v4.ApiException,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class HubSpotError(Exception):
    """A HubSpot call that failed, as one sentence.

    `retry_after`: seconds HubSpot asks Baton to wait (a 429), else None. `retryable`: the
    same call may succeed later (429, 5xx, HubSpot unreachable); not for 401, 403, 400.
    `status`: HubSpot's HTTP status, None if it never answered."""

    def __init__(
        self,
        sentence: str,
        retry_after: float | None = None,
        *,
        retryable: bool | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(sentence)
        self.sentence = sentence
        self.retry_after = retry_after
        self.retryable = retry_after is not None if retryable is None else retryable
        self.status = status


@dataclass(frozen=True)
class DealRecord:
    id: str
    properties: dict[str, str | None]
    company_ids: tuple[str, ...] = ()  # the primary company first, each once

    @property
    def modified_at(self) -> datetime | None:
        return _instant(self.properties.get("hs_lastmodifieddate"))


@dataclass(frozen=True)
class HubSpotAccount:
    portal_id: int
    time_zone: str | None


class HubSpotRetry(Retry):
    """urllib3's Retry with HubSpot's waits. A 429 without Retry-After waits what HubSpot's
    X-HubSpot-RateLimit-* headers imply (else `default_wait_s`); a wait longer than
    `max_wait_s` is not slept at all: the answer goes back to the caller, with its wait."""

    def __init__(
        self, *args: Any, default_wait_s: float = 1.0, max_wait_s: float = 10.0, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.default_wait_s = default_wait_s
        self.max_wait_s = max_wait_s

    def new(self, **kw: Any) -> HubSpotRetry:
        kw.setdefault("default_wait_s", self.default_wait_s)
        kw.setdefault("max_wait_s", self.max_wait_s)
        return super().new(**kw)  # type: ignore[return-value]

    def get_retry_after(self, response: Any) -> float | None:
        if response.status == 429:
            return rate_limit_wait(response.headers, self.default_wait_s)
        return retry_after_header(response.headers)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> HubSpotRetry:
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.max_wait_s:
                raise MaxRetryError(_pool, url, ResponseError(f"asked to wait {wait:.0f} s"))
        return super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[return-value]


def retry_after_header(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from a Retry-After header (seconds or an HTTP date); None if absent or not one."""
    raw = (headers or {}).get("Retry-After")
    if not isinstance(raw, str) or len(raw) > 64:
        return None
    raw = raw.strip()
    if raw.isascii() and raw.isdigit():
        return float(min(int(raw), 86_400))
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, min(86_400.0, (when - datetime.now(UTC)).total_seconds()))


def rate_limit_wait(headers: Mapping[str, str] | None, default: float) -> float:
    """How long a 429 asks Baton to wait: Retry-After if HubSpot sent one; an hour if the
    account's daily limit is spent; the burst window if it is spent; else `default`."""
    headers = headers or {}
    stated = retry_after_header(headers)
    if stated is not None:
        return stated
    if headers.get("X-HubSpot-RateLimit-Daily-Remaining") == "0":
        return 3_600.0
    interval = headers.get("X-HubSpot-RateLimit-Interval-Milliseconds")
    if headers.get("X-HubSpot-RateLimit-Remaining") == "0" and _is_digits(interval, 6):
        return min(60.0, int(interval) / 1000)  # type: ignore[arg-type]
    return default


class HubSpotApi:
    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_API_URL,
        *,
        retries: int = 3,
        timeout_s: float = 30.0,
        default_wait_s: float = 1.0,
        max_wait_s: float = 10.0,
        search_cap: int = SEARCH_CAP,
        page_size: int = SEARCH_PAGE,
        searches_per_second: float = 4.0,  # under HubSpot's 5 a second for search
    ) -> None:
        if not isinstance(token, str) or not token:
            raise HubSpotError("BATON_HUBSPOT_TOKEN is not set.")
        if not _TOKEN.fullmatch(token):
            raise HubSpotError("BATON_HUBSPOT_TOKEN is not a HubSpot access token.")
        self.base_url = _base_url(base_url)
        self._timeout = (min(10.0, timeout_s), timeout_s)
        self._cap = search_cap
        self._page = max(1, min(SEARCH_PAGE, page_size))
        self._search_gap = 1.0 / searches_per_second
        self._next_search = 0.0
        self._default_wait = default_wait_s
        self._lock = threading.Lock()
        self._owners_seen: dict[str, str | None] = {}
        retry = HubSpotRetry(
            total=retries,
            connect=retries,
            read=1,
            status=retries,
            other=0,
            redirect=0,
            status_forcelist=_RETRY_STATUSES,
            allowed_methods=None,  # Baton only reads: its one POST, search, is safe to repeat
            backoff_factor=0.5,
            backoff_max=max_wait_s,
            raise_on_status=False,
            respect_retry_after_header=True,
            default_wait_s=default_wait_s,
            max_wait_s=max_wait_s,
        )
        client = HubSpot(access_token=token, retry=retry, host=self.base_url)
        self._deals = client.crm.deals.basic_api
        self._search = client.crm.deals.search_api
        self._companies = client.crm.companies.basic_api
        self._owners = client.crm.owners.owners_api
        self._associations = client.crm.associations.v4.batch_api

    # --- reads ------------------------------------------------------------------------------
    def account(self) -> HubSpotAccount:
        """The HubSpot account (portal) the token belongs to."""
        body = self._call(
            "the account's details",
            self._deals.api_client.call_api,
            "/account-info/v3/details",
            "GET",
            header_params={"Accept": "application/json"},
            response_types_map={},
            auth_settings=["oauth2"],
            _return_http_data_only=True,
        )
        portal = body.get("portalId") if isinstance(body, dict) else None
        if isinstance(portal, bool) or not isinstance(portal, int) or not 0 < portal < MAX_ID:
            raise HubSpotError("HubSpot's account details carry no portal ID.", status=200)
        zone = body.get("timeZone")
        return HubSpotAccount(portal, zone if isinstance(zone, str) and len(zone) < 64 else None)

    def portal_id(self) -> int:
        return self.account().portal_id

    def deal(self, deal_id: int | str, properties: Sequence[str]) -> DealRecord | None:
        """The deal with `properties` (and HubSpot's createdate, hs_lastmodifieddate,
        hs_object_id) and its companies; None if HubSpot has no such deal."""
        key = _object_id(deal_id)
        if key is None:
            raise HubSpotError(f"{str(deal_id)[:40]!r} is not a HubSpot deal ID.")
        body = self._call(
            f"deal {key}",
            self._deals.get_by_id,
            key,
            properties=_property_names(properties),
            associations=["companies"],
            archived=False,
            missing_ok=True,
        )
        return None if body is None else _deal_record(body, f"deal {key}")

    def owner_email(self, owner_id: str) -> str | None:
        """The email of the HubSpot owner (`hubspot_owner_id`); None for no such active
        owner, or one without an email. Remembered for the life of this client."""
        key = _object_id(owner_id)
        if key is None:
            return None
        with self._lock:
            if key in self._owners_seen:
                return self._owners_seen[key]
        body = self._call(
            f"owner {key}",
            self._owners.get_by_id,
            int(key),
            id_property="id",
            archived=False,
            missing_ok=True,
        )
        address = body.get("email") if isinstance(body, dict) else None
        found = address if isinstance(address, str) and 0 < len(address) <= 254 else None
        with self._lock:
            if len(self._owners_seen) >= OWNER_CACHE:
                self._owners_seen.clear()
            self._owners_seen[key] = found
        return found

    def company_name(self, company_id: str) -> str | None:
        """The company's name; None for no such company or one with no name."""
        key = _object_id(company_id)
        if key is None:
            return None
        body = self._call(
            f"company {key}",
            self._companies.get_by_id,
            key,
            properties=["name"],
            archived=False,
            missing_ok=True,
        )
        properties = body.get("properties") if isinstance(body, dict) else None
        name = properties.get("name") if isinstance(properties, dict) else None
        if not isinstance(name, str) or not name.strip():
            return None
        return name.strip()

    def changed_since(self, since: datetime, properties: Sequence[str]) -> Iterator[DealRecord]:
        """Every deal last modified at or after `since`, oldest change first, with its
        companies. HubSpot's search pages through at most 10,000 results of one query; at
        that cap the search starts again from the last modification time seen, skipping the
        deals of that moment already given. A deal changed while the pages are read can come
        twice (with its newer values the second time)."""
        if since.tzinfo is None:
            raise ValueError("changed_since needs an aware datetime")
        names = _property_names([*properties, "hs_lastmodifieddate"])
        floor, done_at_floor = _epoch_ms(since), set[str]()
        while True:
            last, done_at_last, fresh = floor, set(done_at_floor), 0
            after: str | None = None
            while True:
                try:
                    records, after = self._search_page(floor, names, after)
                except HubSpotError as error:
                    if error.status != 400 or after is None:
                        raise
                    break  # a cap lower than Baton's: start again from the last moment seen
                for record in records:
                    moment = _epoch_ms(record.modified_at) if record.modified_at else floor
                    if moment <= floor and record.id in done_at_floor:
                        continue
                    if moment > last:
                        last, done_at_last = moment, set()
                    done_at_last.add(record.id)
                    fresh += 1
                    yield record
                if after is None:
                    return
                if _is_digits(after, 9) and int(after) >= self._cap:
                    break
            if last == floor and not fresh:
                raise HubSpotError(
                    f"More than {self._cap} HubSpot deals were last modified at one moment; "
                    "HubSpot's search cannot page past them."
                )
            floor, done_at_floor = last, done_at_last

    # --- plumbing ---------------------------------------------------------------------------
    def _search_page(
        self, floor_ms: int, names: list[str], after: str | None
    ) -> tuple[list[DealRecord], str | None]:
        request = PublicObjectSearchRequest(
            filter_groups=[
                FilterGroup(
                    filters=[
                        Filter(
                            property_name="hs_lastmodifieddate",
                            operator="GTE",
                            value=str(floor_ms),
                        )
                    ]
                )
            ],
            # A sort must be an object: HubSpot ignores one given as text (the SDK's type).
            sorts=[{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            properties=names,
            limit=self._page,
            after=after,
        )
        self._pace_search()
        body = self._call("the deals changed since the last sync", self._search.do_search, request)
        results = body.get("results") if isinstance(body, dict) else None
        if not isinstance(results, list) or len(results) > SEARCH_PAGE:
            raise HubSpotError("HubSpot's search answer could not be read.", status=200)
        records = [_deal_record(item, "a searched deal") for item in results]
        companies = self._companies_of([record.id for record in records])
        records = [
            DealRecord(record.id, record.properties, companies.get(record.id, ()))
            for record in records
        ]
        paging = body.get("paging")
        following = paging.get("next") if isinstance(paging, dict) else None
        cursor = following.get("after") if isinstance(following, dict) else None
        if cursor is not None and not (isinstance(cursor, str) and 0 < len(cursor) <= 64):
            raise HubSpotError("HubSpot's search answer has a paging cursor Baton cannot use.")
        return records, cursor

    def _companies_of(self, deal_ids: list[str]) -> dict[str, tuple[str, ...]]:
        if not deal_ids:
            return {}
        request = associations_v4.BatchInputPublicFetchAssociationsBatchRequest(
            inputs=[associations_v4.PublicFetchAssociationsBatchRequest(id=key) for key in deal_ids]
        )
        body = self._call(
            "the companies of the changed deals",
            self._associations.get_page,
            "deals",
            "companies",
            request,
        )
        results = body.get("results") if isinstance(body, dict) else None
        found: dict[str, tuple[str, ...]] = {}
        for result in results if isinstance(results, list) else []:
            source = result.get("from") if isinstance(result, dict) else None
            deal_id = _object_id(source.get("id")) if isinstance(source, dict) else None
            targets = result.get("to") if isinstance(result, dict) else None
            if deal_id is None or not isinstance(targets, list):
                continue
            ids = (_object_id(t.get("toObjectId")) for t in targets if isinstance(t, dict))
            found[deal_id] = tuple(dict.fromkeys(key for key in ids if key is not None))
        return found

    def _pace_search(self) -> None:
        """Keep Baton's searches under HubSpot's per-second search limit."""
        with self._lock:
            now = time.monotonic()
            wait = self._next_search - now
            self._next_search = max(now, self._next_search) + self._search_gap
        if wait > 0:
            time.sleep(wait)

    def _call(
        self, what: str, method: Callable[..., Any], *args: Any, missing_ok: bool = False, **kw: Any
    ) -> Any:
        """The parsed JSON of one library call; None for a 404 when `missing_ok`."""
        try:
            response = method(*args, _preload_content=False, _request_timeout=self._timeout, **kw)
            return _read_json(response, what)
        except _API_ERRORS as exc:
            if exc.status == 404 and missing_ok:
                return None
            raise self._refusal(what, exc.status, exc.headers, exc.body) from None
        except urllib3.exceptions.HTTPError as exc:
            raise HubSpotError(
                f"Baton could not reach HubSpot at {self.base_url} ({_reason(exc)}).",
                retryable=True,
            ) from None
        except ValueError as exc:
            failed = exc.__context__  # the library decodes an error's body as UTF-8 first
            if isinstance(failed, _API_ERRORS):
                raise self._refusal(what, failed.status, failed.headers, None) from None
            raise HubSpotError(f"Baton could not ask HubSpot for {what}.") from None

    def _refusal(self, what: str, status: int | None, headers: Any, body: Any) -> HubSpotError:
        if status == 401:
            return HubSpotError(TOKEN_REFUSED, status=401)
        if status == 403:
            scopes = _required_scopes(body)
            needs = f"needs the scope {scopes}" if scopes else "lacks a scope this needs"
            return HubSpotError(
                f"HubSpot refused Baton {what}: the private app behind BATON_HUBSPOT_TOKEN "
                f"{needs}.",
                status=403,
            )
        if status == 429:
            wait = rate_limit_wait(headers, self._default_wait)
            return HubSpotError(
                f"HubSpot is rate-limiting Baton; it can ask for {what} again in {wait:.0f} s.",
                retry_after=wait,
                status=429,
            )
        if status is not None and status >= 500:
            return HubSpotError(
                f"HubSpot failed to answer Baton's request for {what} (HTTP {status}).",
                retryable=True,
                status=status,
            )
        if not status:
            return HubSpotError(
                f"Baton could not reach HubSpot at {self.base_url} securely.", retryable=True
            )
        message = _message(body)
        return HubSpotError(
            f"HubSpot refused Baton's request for {what} (HTTP {status}{message}).",
            status=status,
        )


# --- bounded reading ------------------------------------------------------------------------
def _base_url(raw: str) -> str:
    parts = urlsplit(raw) if isinstance(raw, str) else None
    if (
        parts is None
        or parts.scheme not in {"http", "https"}
        or not parts.netloc
        or parts.query
        or parts.fragment
        or not raw.isascii()
    ):
        raise HubSpotError("BATON_HUBSPOT_API_URL is not an http(s) URL.")
    return raw.rstrip("/")


def _object_id(raw: object) -> str | None:
    """A HubSpot record id (positive, below 2**63) as its digits, or None."""
    if isinstance(raw, bool):
        return None
    text = str(raw) if isinstance(raw, int) else raw
    if not isinstance(text, str) or not _ID.fullmatch(text):
        return None
    value = int(text)
    return str(value) if 0 < value < MAX_ID else None


def _property_names(names: Sequence[str]) -> list[str]:
    if isinstance(names, str):
        raise HubSpotError("Baton asked HubSpot for properties as one text, not a list of names.")
    wanted = list(dict.fromkeys(names))
    if len(wanted) > MAX_PROPERTIES:
        raise HubSpotError(
            f"Baton can ask HubSpot for at most {MAX_PROPERTIES} properties at once."
        )
    for name in wanted:
        if not isinstance(name, str) or not _PROPERTY.fullmatch(name):
            shown = str(name)[:40]
            raise HubSpotError(f"{shown!r} is not the internal name of a HubSpot property.")
    return wanted


def _read_json(response: Any, what: str) -> Any:
    raw = response.read(MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        response.close()
        raise HubSpotError(f"HubSpot's answer to Baton's request for {what} is too large.")
    response.release_conn()
    try:
        return json.loads(raw) if raw else None
    except (ValueError, RecursionError):
        raise HubSpotError(f"HubSpot's answer to Baton's request for {what} is not JSON.") from None


def _deal_record(body: object, what: str) -> DealRecord:
    if not isinstance(body, dict):
        raise HubSpotError(f"HubSpot's answer for {what} is not a deal.")
    key = _object_id(body.get("id"))
    raw = body.get("properties")
    if key is None or not isinstance(raw, dict) or len(raw) > 2 * MAX_PROPERTIES:
        raise HubSpotError(f"HubSpot's answer for {what} is not a deal.")
    properties: dict[str, str | None] = {}
    for name, value in raw.items():
        if isinstance(name, str) and len(name) <= 100:
            properties[name] = value if isinstance(value, str) or value is None else str(value)
    return DealRecord(key, properties, _association_ids(body.get("associations")))


def _association_ids(raw: object) -> tuple[str, ...]:
    """The company ids of a deal read with associations=companies (the primary company is
    listed twice by HubSpot, labelled and not: each id is kept once, in order)."""
    companies = raw.get("companies") if isinstance(raw, dict) else None
    results = companies.get("results") if isinstance(companies, dict) else None
    if not isinstance(results, list):
        return ()
    ids = (_object_id(item.get("id")) for item in results[:1000] if isinstance(item, dict))
    return tuple(dict.fromkeys(key for key in ids if key is not None))


def _instant(raw: str | None) -> datetime | None:
    """A HubSpot datetime value: ISO 8601 ("2027-01-31T00:00:00Z") or ms since the epoch."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    if raw.isascii() and raw.isdigit():
        return _EPOCH + timedelta(milliseconds=int(raw)) if len(raw) <= 15 else None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _epoch_ms(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(milliseconds=1)


def _is_digits(raw: object, longest: int) -> bool:
    return isinstance(raw, str) and 0 < len(raw) <= longest and raw.isascii() and raw.isdigit()


def _decoded(body: object) -> object:
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str) and len(body) <= MAX_BODY:
        try:
            return json.loads(body)
        except (ValueError, RecursionError):
            return None
    return None


def _message(body: object) -> str:
    """HubSpot's own message for a refusal, short and printable, as ": message"."""
    parsed = _decoded(body)
    text = parsed.get("message") if isinstance(parsed, dict) else None
    if not isinstance(text, str):
        return ""
    text = " ".join("".join(ch for ch in text if ch.isprintable()).split()).rstrip(".")
    return f": {text[:157]}..." if len(text) > 160 else (f": {text}" if text else "")


def _required_scopes(body: object) -> str:
    parsed = _decoded(body)
    errors = parsed.get("errors") if isinstance(parsed, dict) else None
    scopes: list[str] = []
    for item in errors[:10] if isinstance(errors, list) else []:
        context = item.get("context") if isinstance(item, dict) else None
        named = context.get("requiredGranularScopes") if isinstance(context, dict) else None
        for scope in named[:10] if isinstance(named, list) else []:
            if isinstance(scope, str) and re.fullmatch(r"[a-z0-9._-]{1,80}", scope):
                scopes.append(scope)
    return " or ".join(dict.fromkeys(scopes))


def _reason(exc: Exception) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, urllib3.exceptions.NameResolutionError):
        return "its name did not resolve"
    if isinstance(reason, urllib3.exceptions.NewConnectionError | ConnectionError):
        return "the connection was refused"  # (a NewConnectionError is a TimeoutError too)
    if isinstance(reason, urllib3.exceptions.TimeoutError):
        return "it did not answer in time"
    if isinstance(reason, ResponseError):
        return "it kept refusing"
    return "the connection failed"
