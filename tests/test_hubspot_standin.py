"""Baton's HubSpot client (bot/crm/hubspot_api.py) against the loopback HubSpot
(bot/sandbox/hubspot/) over real HTTP, and HubSpot's webhook sender against Baton's verifier."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.crm.hubspot_api import TOKEN_REFUSED, DealRecord, HubSpotApi, HubSpotError
from bot.sandbox.hubspot import HubSpotSandbox, HubSpotWebhooks
from bot.sandbox.hubspot.server import DEALS_READ
from flows.crm.hubspot import is_signed_v3, parse_events, parse_workflow

BASE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECRET = "client-secret-of-the-app"


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def hub() -> AsyncIterator[HubSpotSandbox]:
    async with HubSpotSandbox(search_cap=100) as sandbox:
        yield sandbox


@pytest.fixture
def portal(hub: HubSpotSandbox):  # noqa: ANN201
    portal = hub.add_portal(62515, time_zone="Europe/Paris")
    hub.define_deal_property(portal.id, "renewal_date", "date")
    hub.define_deal_property(portal.id, "csm_owner", "string")
    return portal


@pytest.fixture
def token(hub: HubSpotSandbox, portal) -> str:  # noqa: ANN001
    return hub.add_token(portal.id)


def client(hub: HubSpotSandbox, token: str, **options: Any) -> HubSpotApi:
    return HubSpotApi(token, hub.base_url, search_cap=hub.search_cap, **options)


async def raised(call, *args: Any) -> HubSpotError:  # noqa: ANN001
    with pytest.raises(HubSpotError) as caught:
        await asyncio.to_thread(call, *args)
    return caught.value


def one_sentence(text: str) -> bool:
    return text.endswith(".") and "\n" not in text and ". " not in text.rstrip(".")


async def raw(  # noqa: ANN201
    hub: HubSpotSandbox, method: str, path: str, token: str | None, *, headers=None, **kw: Any
):
    headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, hub.base_url + path, headers=headers, **kw) as response,
    ):
        text = await response.text()
        return response.status, (json.loads(text) if text else None), response.headers


# --- reads ----------------------------------------------------------------------------------
async def test_the_client_finds_a_deal_its_owner_and_its_company(hub, portal, token) -> None:
    owner = hub.add_owner(portal.id, "ana@example.com", "Ana", "Lima")
    acme = hub.add_company(portal.id, "Acme Robotics")
    other = hub.add_company(portal.id, "Acme Holdings")
    deal_id = hub.add_deal(
        portal.id,
        {
            "dealname": "Acme renewal",
            "amount": "12500.50",
            "closedate": datetime(2027, 1, 31, tzinfo=UTC),
            "dealstage": "closedwon",
            "hubspot_owner_id": owner,
            "renewal_date": date(2027, 1, 31),
        },
        company_ids=[acme, other],
        at=BASE,
    )
    api = client(hub, token)
    wanted = ["dealname", "amount", "closedate", "hubspot_owner_id", "renewal_date", "csm_owner"]
    deal = await asyncio.to_thread(api.deal, int(deal_id), wanted + ["no_such_property"])
    assert isinstance(deal, DealRecord)
    assert deal.id == deal_id
    assert deal.company_ids == (acme, other)  # the primary first, listed once though sent twice
    assert deal.properties == {
        "dealname": "Acme renewal",
        "amount": "12500.50",
        "closedate": "2027-01-31T00:00:00Z",
        "hubspot_owner_id": owner,
        "renewal_date": "2027-01-31",
        "csm_owner": None,
        "createdate": "2026-03-02T09:00:00Z",
        "hs_lastmodifieddate": "2026-03-02T09:00:00Z",
        "hs_object_id": deal_id,
    }
    assert deal.modified_at == BASE
    assert await asyncio.to_thread(api.owner_email, owner) == "ana@example.com"
    assert await asyncio.to_thread(api.company_name, acme) == "Acme Robotics"
    assert await asyncio.to_thread(api.portal_id) == 62515
    assert (await asyncio.to_thread(api.account)).time_zone == "Europe/Paris"
    (read,) = hub.calls_to("/crm/v3/objects/deals/")
    assert read.query["associations"] == ["companies"] and "amount" in read.query["properties"]


async def test_an_owners_email_is_asked_once(hub, portal, token) -> None:
    owner = hub.add_owner(portal.id, "ana@example.com")
    api = client(hub, token)
    for _ in range(3):
        assert await asyncio.to_thread(api.owner_email, owner) == "ana@example.com"
    assert len(hub.calls_to("/crm/v3/owners/")) == 1


async def test_what_hubspot_does_not_have_is_none(hub, portal, token) -> None:
    archived = hub.add_owner(portal.id, "gone@example.com", archived=True)
    no_email = hub.add_owner(portal.id, None)
    deleted = hub.add_deal(portal.id, {"dealname": "Old"})
    hub.delete_deal(portal.id, deleted)
    api = client(hub, token)
    assert await asyncio.to_thread(api.deal, "999999", ["dealname"]) is None
    assert await asyncio.to_thread(api.deal, deleted, ["dealname"]) is None
    assert await asyncio.to_thread(api.owner_email, "999999") is None
    assert await asyncio.to_thread(api.owner_email, archived) is None
    assert await asyncio.to_thread(api.owner_email, no_email) is None
    assert await asyncio.to_thread(api.company_name, "999999") is None
    status, body, _ = await raw(hub, "GET", "/crm/v3/objects/deals/999999", token)
    assert status == 404 and body["status"] == "error" and body["category"] == "OBJECT_NOT_FOUND"
    assert body["correlationId"] and body["message"]


async def test_ids_are_checked_before_they_go_in_a_url(hub, portal, token) -> None:
    api = client(hub, token)
    for bad in ("abc", "-1", "0", str(2**63), "1/../2", "１２", True, 2**63, "1 "):
        error = await raised(api.deal, bad, ["dealname"])
        assert one_sentence(error.sentence) and "not a HubSpot deal ID" in error.sentence
        assert await asyncio.to_thread(api.owner_email, bad) is None
        assert await asyncio.to_thread(api.company_name, bad) is None
    for names in (["dealname", "x y"], ["../etc"], "dealname", [""], ["d" * 101], [7]):
        error = await raised(api.deal, "1", names)
        assert one_sentence(error.sentence)
    assert hub.calls == []


async def test_a_wrong_or_revoked_token_is_refused(hub, portal, token) -> None:
    deal_id = hub.add_deal(portal.id, {"dealname": "Acme"})
    error = await raised(client(hub, "pat-na1-wrong").deal, deal_id, ["dealname"])
    assert error.sentence == TOKEN_REFUSED and error.status == 401
    assert error.retry_after is None and not error.retryable
    hub.revoke_token(token)
    error = await raised(client(hub, token).portal_id)
    assert error.sentence == TOKEN_REFUSED
    for presented in (None, "pat-na1-wrong"):
        status, body, _ = await raw(hub, "GET", "/account-info/v3/details", presented)
        assert status == 401 and body["category"] == "INVALID_AUTHENTICATION"
        assert body["status"] == "error" and body["correlationId"]


async def test_a_missing_scope_is_named(hub, portal) -> None:
    company = hub.add_company(portal.id, "Acme")
    narrow = hub.add_token(portal.id, scopes=[DEALS_READ])
    error = await raised(client(hub, narrow).company_name, company)
    assert error.status == 403 and one_sentence(error.sentence)
    assert (
        "crm.objects.companies.read" in error.sentence and "BATON_HUBSPOT_TOKEN" in error.sentence
    )


def test_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(HubSpotError, match=r"^BATON_HUBSPOT_TOKEN is not set\.$"):
        HubSpotApi("", "https://api.hubapi.com")
    with pytest.raises(HubSpotError, match=r"^BATON_HUBSPOT_TOKEN is not a HubSpot"):
        HubSpotApi("pat na1\n", "https://api.hubapi.com")
    for url in ("ftp://api.hubapi.com", "api.hubapi.com", "https://x/?q=1", "https://ü.example"):
        with pytest.raises(HubSpotError, match=r"^BATON_HUBSPOT_API_URL is not"):
            HubSpotApi("pat-na1-x", url)


async def test_an_unreachable_hubspot_is_a_retryable_sentence() -> None:
    sandbox = HubSpotSandbox()
    url = await sandbox.start()
    await sandbox.close()  # nothing listens on its port any more
    error = await raised(HubSpotApi("pat-na1-x", url, retries=0).portal_id)
    assert error.retryable and error.status is None and one_sentence(error.sentence)
    assert error.sentence.startswith(f"Baton could not reach HubSpot at {url}")


# --- search ---------------------------------------------------------------------------------
async def test_changed_since_pages_past_the_cap_in_order(hub, portal, token) -> None:
    company = hub.add_company(portal.id, "Acme")
    hub.add_deal(portal.id, {"dealname": "before"}, at=BASE - timedelta(seconds=1))
    made = []
    for n in range(450):  # three deals a second: ties at every moment
        at = BASE + timedelta(seconds=n // 3)
        ids = [company] if n % 7 == 0 else []
        made.append(hub.add_deal(portal.id, {"dealname": f"deal {n}"}, company_ids=ids, at=at))
    api = client(hub, token, page_size=100)
    records = await asyncio.to_thread(lambda: list(api.changed_since(BASE, ["dealname"])))
    assert sorted(record.id for record in records) == sorted(made)  # each once, none before
    moments = [record.modified_at for record in records]
    assert moments == sorted(moments)
    assert all(set(r.properties) >= {"dealname", "hs_lastmodifieddate"} for r in records)
    by_id = {record.id: record for record in records}
    assert by_id[made[0]].company_ids == (company,) and by_id[made[1]].company_ids == ()
    floors = {
        call.body["filterGroups"][0]["filters"][0]["value"]
        for call in hub.calls_to("/crm/v3/objects/deals/search")
    }
    assert len(floors) >= 5  # 450 results, 100 per query: it started again at least 4 times
    assert all(c.status == 200 for c in hub.calls_to("/crm/v3/objects/deals/search"))
    searches = hub.calls_to("/crm/v3/objects/deals/search")
    assert all(call.body["limit"] == 100 for call in searches)
    assert all(
        call.body["sorts"] == [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]
        for call in searches
    )


async def test_a_cap_lower_than_the_clients_is_met_by_starting_again(hub, portal, token) -> None:
    for n in range(250):
        hub.add_deal(portal.id, {"dealname": f"deal {n}"}, at=BASE + timedelta(seconds=n))
    api = HubSpotApi(token, hub.base_url)  # it expects HubSpot's 10,000; the sandbox caps at 100
    records = await asyncio.to_thread(lambda: list(api.changed_since(BASE, ["dealname"])))
    assert len({record.id for record in records}) == len(records) == 250
    assert 400 in {call.status for call in hub.calls_to("/crm/v3/objects/deals/search")}


async def test_hostile_bodies_get_4xx_from_the_sandbox_never_5xx(hub, portal, token) -> None:
    hub.limits_enabled = False
    nested = b"[" * 100_000 + b"]" * 100_000
    bodies = [
        [],
        "x",
        None,
        {"filterGroups": "all"},
        {
            "filterGroups": [
                {"filters": [{"propertyName": "amount", "operator": "GT", "value": "x"}]}
            ]
        },
        {
            "filterGroups": [
                {"filters": [{"propertyName": "closedate", "operator": "EQ", "value": "?"}]}
            ]
        },
        {"filterGroups": [{"filters": [None]}]},
        {"sorts": "hs_lastmodifieddate"},
        {"properties": "dealname"},
        {"after": "-1"},
        {"after": 1.5},
        {"query": 7},
        {"limit": "10"},
        {"inputs": [{"id": {"x": 1}}]},
    ]
    for path in ("/crm/v3/objects/deals/search", "/crm/v4/associations/deals/companies/batch/read"):
        for body in [json.dumps(item).encode() for item in bodies] + [nested, b"\xff"]:
            status, answer, _ = await raw(
                hub,
                "POST",
                path,
                token,
                data=body,
                headers={"Content-Type": "application/json"},
            )
            assert 400 <= status < 500 or status in (200, 207), (path, body[:60], status)
            assert answer is None or answer.get("status") in ("error", "COMPLETE", None)


async def test_more_ties_than_the_cap_is_one_sentence(hub, portal, token) -> None:
    for n in range(150):
        hub.add_deal(portal.id, {"dealname": f"import {n}"}, at=BASE)
    api = client(hub, token, page_size=100)
    with pytest.raises(HubSpotError) as caught:
        await asyncio.to_thread(lambda: list(api.changed_since(BASE, ["dealname"])))
    assert one_sentence(caught.value.sentence) and "100" in caught.value.sentence


async def test_the_search_refuses_what_hubspot_refuses(hub, portal, token) -> None:
    for n in range(120):
        hub.add_deal(portal.id, {"dealname": f"deal {n}"}, at=BASE + timedelta(seconds=n))
    hub.limits_enabled = False  # this test makes more than 5 searches a second
    search = "/crm/v3/objects/deals/search"
    for body in (
        {"limit": 201},
        {"limit": 0},
        {"after": "100"},  # the cap (100 here, 10,000 at HubSpot)
        {"filterGroups": [{"filters": [{"propertyName": "x", "operator": "LIKE", "value": 1}]}]},
        {"filterGroups": [{"filters": []}] * 6},
        {"sorts": [{"propertyName": "a"}, {"propertyName": "b"}]},
        {"limitt": 10},
    ):
        status, answer, _ = await raw(hub, "POST", search, token, json=body)
        assert (status, answer["category"]) == (400, "VALIDATION_ERROR"), body
    as_json = {"Content-Type": "application/json"}
    status, answer, _ = await raw(hub, "POST", search, token, data=b"{", headers=as_json)
    assert (status, answer["category"]) == (400, "VALIDATION_ERROR")
    status, answer, _ = await raw(hub, "POST", search, token, data=b"{}")
    assert status == 415 and answer["status"] == "error"
    status, page, _ = await raw(hub, "POST", search, token, json={"limit": 100, "after": "0"})
    assert status == 200 and page["total"] == 120 and page["paging"]["next"]["after"] == "100"
    status, page, _ = await raw(
        hub, "POST", search, token, json={"limit": 100, "after": "50", "properties": ["dealname"]}
    )
    assert len(page["results"]) == 50  # clipped at the cap, yet it offers a next page
    assert page["paging"]["next"]["after"] == "100"
    newest_first = {"sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}]}
    _, page, _ = await raw(hub, "POST", search, token, json={**newest_first, "limit": 1})
    assert page["results"][0]["properties"]["hs_lastmodifieddate"] == "2026-03-02T09:01:59Z"
    as_text = {"sorts": ['{"propertyName":"hs_lastmodifieddate","direction":"DESCENDING"}']}
    _, page, _ = await raw(hub, "POST", search, token, json={**as_text, "limit": 1})
    assert page["results"][0]["properties"]["hs_lastmodifieddate"] == "2026-03-02T09:00:00Z"


async def test_the_search_rate_limit_and_its_bare_429() -> None:
    clock = FakeMonotonic()
    async with HubSpotSandbox(monotonic=clock) as hub:
        portal = hub.add_portal()
        token = hub.add_token(portal.id)
        search = "/crm/v3/objects/deals/search"
        for _ in range(hub.search_per_second):
            status, _, headers = await raw(hub, "POST", search, token, json={})
            assert status == 200 and "X-HubSpot-RateLimit-Remaining" not in headers
        status, body, headers = await raw(hub, "POST", search, token, json={})
        assert status == 429 and body["policyName"] == "SECONDLY"
        assert body["category"] == "RATE_LIMITS" and body["errorType"] == "RATE_LIMIT"
        assert "Retry-After" not in headers and "X-HubSpot-RateLimit-Max" not in headers
        clock.now += 1.0
        status, _, _ = await raw(hub, "POST", search, token, json={})
        assert status == 200


# --- rate limits and faults -----------------------------------------------------------------
async def test_the_burst_limit_answers_as_hubspot_does() -> None:
    clock = FakeMonotonic()
    async with HubSpotSandbox(monotonic=clock, burst_limit=3) as hub:
        portal = hub.add_portal()
        token = hub.add_token(portal.id)
        path = "/account-info/v3/details"
        for remaining in ("2", "1", "0"):
            status, _, headers = await raw(hub, "GET", path, token)
            assert status == 200 and headers["X-HubSpot-RateLimit-Remaining"] == remaining
            assert headers["X-HubSpot-RateLimit-Max"] == "3"
            assert headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
        status, body, headers = await raw(hub, "GET", path, token)
        assert status == 429 and body["policyName"] == "TEN_SECONDLY_ROLLING"
        assert body["category"] == "RATE_LIMITS" and "Retry-After" not in headers
        error = await raised(HubSpotApi(token, hub.base_url, retries=0).portal_id)
        assert error.status == 429 and error.retry_after == 10.0 and error.retryable
        assert one_sentence(error.sentence)
        clock.now += 10.0
        assert await asyncio.to_thread(HubSpotApi(token, hub.base_url).portal_id) == portal.id


async def test_a_429_then_success(hub, portal, token) -> None:
    deal_id = hub.add_deal(portal.id, {"dealname": "Acme"})
    hub.fail("/crm/v3/objects/deals/", times=1, status=429, retry_after=0)
    deal = await asyncio.to_thread(client(hub, token).deal, deal_id, ["dealname"])
    assert deal is not None and deal.properties["dealname"] == "Acme"
    assert [call.status for call in hub.calls_to("/crm/v3/objects/deals/")] == [429, 200]


async def test_a_429_without_retry_after_waits_and_succeeds(hub, portal, token) -> None:
    hub.fail("/account-info/", times=2, status=429)
    api = client(hub, token, default_wait_s=0.01)
    assert await asyncio.to_thread(api.portal_id) == portal.id
    assert [call.status for call in hub.calls] == [429, 429, 200]


async def test_a_long_retry_after_comes_back_to_the_caller(hub, portal, token) -> None:
    hub.fail("/account-info/", times=5, status=429, retry_after=120)
    error = await raised(client(hub, token).portal_id)
    assert error.retry_after == 120.0 and error.retryable and error.status == 429
    assert len(hub.calls) == 1  # not slept on, not asked again


async def test_retries_are_bounded(hub, portal, token) -> None:
    hub.fail("/account-info/", times=10, status=429, retry_after=0)
    error = await raised(client(hub, token, retries=2).portal_id)
    assert error.status == 429 and error.retry_after is not None
    assert len(hub.calls) == 3


async def test_server_errors_are_retried_then_reported(hub, portal, token) -> None:
    company = hub.add_company(portal.id, "Acme")
    hub.fail("/crm/v3/objects/companies/", times=1, status=500)
    assert await asyncio.to_thread(client(hub, token).company_name, company) == "Acme"
    hub.fail("/crm/v3/objects/companies/", times=10, status=502)
    error = await raised(client(hub, token, retries=1).company_name, company)
    assert error.status == 502 and error.retryable and error.retry_after is None
    assert one_sentence(error.sentence)
    assert [c.status for c in hub.calls_to("/crm/v3/objects/companies/")] == [500, 200, 502, 502]


# --- the stand-in's own rules ---------------------------------------------------------------
async def test_a_deal_reads_in_hubspots_shape(hub, portal, token) -> None:
    company = hub.add_company(portal.id, "Acme")
    deal_id = hub.add_deal(portal.id, {"dealname": "Acme"}, company_ids=[company], at=BASE)
    path = f"/crm/v3/objects/deals/{deal_id}?properties=dealname,amount&associations=companies"
    status, body, headers = await raw(hub, "GET", path, token)
    assert status == 200 and headers["X-HubSpot-RateLimit-Max"] == "100"
    assert body == {
        "id": deal_id,
        "properties": {
            "dealname": "Acme",
            "amount": None,
            "createdate": "2026-03-02T09:00:00Z",
            "hs_lastmodifieddate": "2026-03-02T09:00:00Z",
            "hs_object_id": deal_id,
        },
        "createdAt": "2026-03-02T09:00:00Z",
        "updatedAt": "2026-03-02T09:00:00Z",
        "archived": False,
        "associations": {
            "companies": {
                "results": [
                    {"id": company, "type": "deal_to_company"},
                    {"id": company, "type": "deal_to_company_unlabeled"},
                ]
            }
        },
    }


def test_changing_a_deal_moves_its_modified_date_and_makes_events(hub, portal) -> None:
    deal_id = hub.add_deal(portal.id, {"dealname": "Acme", "dealstage": "qualified"}, at=BASE)
    later = BASE + timedelta(minutes=5, milliseconds=250)
    events = hub.change_deal(
        portal.id, deal_id, {"dealstage": "closedwon", "dealname": "Acme"}, at=later
    )
    assert [(e["propertyName"], e["propertyValue"]) for e in events] == [("dealstage", "closedwon")]
    assert events[0]["attemptNumber"] == 0 and events[0]["objectId"] == int(deal_id)
    assert events[0]["occurredAt"] == int(later.timestamp() * 1000)
    assert hub.deal(portal.id, deal_id).value("hs_lastmodifieddate") == "2026-03-02T09:05:00.250Z"
    assert hub.change_deal(portal.id, deal_id, {"dealstage": "closedwon"}) == []
    again = hub.change_deal(portal.id, deal_id, {"dealstage": "closedlost"}, at=later)
    assert again[0]["eventId"] != events[0]["eventId"]
    with pytest.raises(ValueError, match="define it first"):
        hub.change_deal(portal.id, deal_id, {"not_defined": "x"})


# --- HubSpot's sending side -----------------------------------------------------------------
class Receiver:
    """A stand-in for Baton's door: it checks each request with flows' verifier."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.accepted: list[Any] = []
        self.hold: asyncio.Event | None = None
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/crm/hubspot", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/crm/hubspot"

    async def handle(self, request: web.Request) -> web.Response:
        if self.hold is not None:
            await self.hold.wait()
        body = await request.read()
        now_ms = int(time.time() * 1000)
        if not is_signed_v3(
            self.secret, request.method, str(request.url), body, request.headers, now_ms
        ):
            return web.Response(status=401)
        self.accepted.append(json.loads(body))
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    door = Receiver(SECRET)
    await door.start()
    yield door
    if door.hold is not None:
        door.hold.set()
    await door.runner.cleanup()  # type: ignore[union-attr]


async def test_the_senders_signature_is_accepted_and_its_events_parse(
    hub, portal, receiver
) -> None:
    deal_id = hub.add_deal(portal.id, {"dealname": "Acme", "dealstage": "qualified"})
    events = hub.creation_events(portal.id, deal_id)
    events += hub.change_deal(portal.id, deal_id, {"dealstage": "closedwon", "amount": 900})
    async with HubSpotWebhooks(receiver.url, SECRET) as sender:
        assert await sender.send(events) == 204
        assert await sender.redeliver() == 204
    first, second = receiver.accepted
    parsed, retried = parse_events(first), parse_events(second)
    assert isinstance(parsed, list) and isinstance(retried, list)
    assert [(e.subscription_type, e.property_name) for e in parsed] == [
        ("deal.creation", None),
        ("deal.propertyChange", "dealstage"),
        ("deal.propertyChange", "amount"),
    ]
    assert all(e.object_id == int(deal_id) and e.portal_id == portal.id for e in parsed)
    assert [e.event_id for e in retried] == [e.event_id for e in parsed]
    assert {e.attempt for e in parsed} == {0} and {e.attempt for e in retried} == {1}
    headers = sender.deliveries[0].headers
    assert headers["Content-Type"] == "application/json"
    assert set(headers) >= {"X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp"}


async def test_a_url_with_encoded_characters_still_verifies(receiver) -> None:
    async with HubSpotWebhooks(receiver.url + "?from=hub%3Aspot%2Cna1", SECRET) as sender:
        assert await sender.send([]) == 204


async def test_what_baton_must_refuse_is_refused(receiver) -> None:
    async with HubSpotWebhooks(receiver.url, "not-the-secret") as forger:
        assert await forger.send([]) == 401
    stale = int(time.time() * 1000) - 6 * 60 * 1000
    async with HubSpotWebhooks(receiver.url, SECRET) as sender:
        assert await sender.send([], timestamp_ms=stale) == 401
    assert receiver.accepted == []


async def test_workflow_webhooks_in_both_shapes(receiver) -> None:
    properties = {"dealname": "Acme", "amount": 1200, "renewal_date": "2027-01-31"}
    async with HubSpotWebhooks(receiver.url, SECRET) as sender:
        assert await sender.send_workflow(4321, properties) == 204
        assert await sender.send_workflow(4321, properties, all_properties=True) == 204
    flat, whole = (parse_workflow(body) for body in receiver.accepted)
    expected = {"hs_object_id": "4321", "dealname": "Acme", "amount": "1200"}
    assert flat == whole == {**expected, "renewal_date": "2027-01-31"}


async def test_an_unanswered_delivery_counts_as_failed(receiver) -> None:
    receiver.hold = asyncio.Event()
    async with HubSpotWebhooks(receiver.url, SECRET, timeout_s=0.2) as sender:
        assert await sender.send([]) == 0
        assert sender.deliveries[0].status == 0
