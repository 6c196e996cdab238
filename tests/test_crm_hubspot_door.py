"""`POST /crm/hubspot` end to end: the HubSpot stand-in's webhooks and API, the real bot,
the Slack sandbox and the database."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from bot.platform.settings import Settings
from bot.runtime.runner import BotServer
from bot.sandbox import SlackSandbox
from bot.sandbox.hubspot import HubSpotSandbox, Portal
from bot.sandbox.hubspot.webhooks import signed_headers
from storage.accounts import account_by_crm
from storage.models import Account
from tests.conftest import People
from tests.helpers import row_counts

SECRET = "hubspot-client-secret"


@dataclass
class Hub:
    api: HubSpotSandbox
    portal: Portal
    token: str
    ae_owner: str
    csm_owner: str
    company: str


@dataclass
class Door:
    bot: BotServer
    hub: Hub
    url: str
    session: aiohttp.ClientSession

    async def post(
        self,
        payload: Any,
        *,
        secret: str = SECRET,
        stamp_ms: int | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        url: str | None = None,
    ) -> tuple[int, Any]:
        body = raw if raw is not None else json.dumps(payload).encode()
        target = url or self.url
        stamp = int(time.time() * 1000) if stamp_ms is None else stamp_ms
        headers = signed_headers(secret, "POST", target, body, stamp, "v1")
        headers["Content-Type"] = content_type
        async with self.session.post(target, data=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)

    team: str
    at_start: dict[str, int] = field(default_factory=dict)

    async def account(self, deal_id: str) -> Account | None:
        return await self.bot.services.db.run(account_by_crm, self.team, deal_id)

    def count(self, table: str) -> int:
        return row_counts(self.bot.services.engine)[table]

    def nothing_written(self) -> bool:
        """Every table as it was when the bot had started."""
        return row_counts(self.bot.services.engine) == self.at_start


@pytest.fixture
async def hub(people: People) -> AsyncIterator[Hub]:
    async with HubSpotSandbox() as api:
        portal = api.add_portal(62515)
        token = api.add_token(portal.id)
        api.define_deal_property(portal.id, "renewal_date", "date")
        api.define_deal_property(portal.id, "csm_owner", "string")
        ae = api.add_owner(portal.id, people.ae.email, "Ana", "Ruiz")
        csm = api.add_owner(portal.id, people.csm.email, "Chen", "Wei")
        company = api.add_company(portal.id, "Acme Robotics")
        yield Hub(api, portal, token, ae, csm, company)


def crm_settings(settings: Settings, hub: Hub, **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "baton_hubspot_client_secret": SECRET,
            "baton_hubspot_token": hub.token,
            "baton_hubspot_api_url": hub.api.base_url,
            **more,
        }
    )


@pytest.fixture
async def door(settings: Settings, hub: Hub, sandbox: SlackSandbox) -> AsyncIterator[Door]:
    bot = BotServer(crm_settings(settings, hub), ticker=False, process_before_response=True)
    await bot.start(host="127.0.0.1", port=0)
    async with aiohttp.ClientSession() as session:
        door = Door(bot, hub, f"{bot.url}/crm/hubspot", session, sandbox.workspace.team_id)
        door.at_start = row_counts(bot.services.engine)
        yield door
    await bot.stop()


def new_deal(hub: Hub, stage: str = "appointmentscheduled", **properties: Any) -> str:
    return hub.api.add_deal(
        hub.portal.id,
        {
            "dealname": "Acme Robotics – platform",
            "amount": "48000",
            "closedate": "2027-01-04T15:00:00Z",
            "dealstage": stage,
            "hubspot_owner_id": hub.ae_owner,
            "csm_owner": hub.csm_owner,
            "renewal_date": "2028-01-31",
            **properties,
        },
        company_ids=[hub.company],
    )


async def test_a_deal_reaching_closed_won_starts_the_handoff(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    events = hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    status, answer = await door.post(events)
    assert status == 200, answer
    assert answer["deals"] == [
        {"crm_id": deal_id, "result": "created", "account_id": answer["deals"][0]["account_id"]}
    ]
    account = await door.account(deal_id)
    assert account is not None
    assert account.name == "Acme Robotics"  # the associated company's name
    assert (str(account.arr), str(account.renewal_date)) == ("48000.00", "2028-01-31")
    assert (account.ae_email, account.csm_email) == ("ana@example.test", "chen@example.test")
    assert account.crm_url == f"https://app.hubspot.com/contacts/62515/record/0-3/{deal_id}"
    assert account.setup_due_at is not None  # the set-up in Slack is queued work


async def test_a_batch_of_several_deals_and_events_takes_each_deal_once(door: Door) -> None:
    hub = door.hub
    deals = [new_deal(hub) for _ in range(3)]
    events = []
    for deal_id in deals:
        events += hub.api.change_deal(
            hub.portal.id, deal_id, {"dealstage": "closedwon", "amount": "12000"}
        )
    assert len(events) == 6
    status, answer = await door.post(events)
    assert status == 200 and answer["events"] == 6
    assert sorted(d["crm_id"] for d in answer["deals"]) == sorted(deals)
    assert {d["result"] for d in answer["deals"]} == {"created"}
    assert len(hub.api.calls_to("/crm/v3/objects/deals/")) == 3  # each deal read once
    assert door.count("accounts") == 3 and door.count("crm_events") == 6


async def test_a_retried_batch_is_taken_once_and_reads_nothing_again(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    events = hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    assert (await door.post(events))[0] == 200
    reads = len(hub.api.calls)
    for event in events:
        event["attemptNumber"] = 1
    status, answer = await door.post(events)
    assert status == 200 and answer["already_taken"] == len(events) and answer["deals"] == []
    assert len(hub.api.calls) == reads
    assert door.count("accounts") == 1
    assert door.count("crm_events") == len(events)


async def test_later_changes_update_the_account_and_a_reopened_deal_is_not_doubled(
    door: Door,
) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    await door.post(hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"}))
    reopened = hub.api.change_deal(
        hub.portal.id, deal_id, {"dealstage": "contractsent", "amount": "52000"}
    )
    status, answer = await door.post(reopened)
    assert status == 200 and answer["deals"][0]["result"] == "updated"
    closed_again = hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    status, answer = await door.post(closed_again)
    assert answer["deals"][0]["result"] == "unchanged"
    assert door.count("accounts") == 1
    account = await door.account(deal_id)
    assert account is not None and str(account.arr) == "52000.00"


async def test_a_new_owner_in_hubspot_is_the_accounts_new_ae(door: Door, people: People) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    await door.post(hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"}))
    other = hub.api.add_owner(hub.portal.id, people.manager.email, "Maya", "Patel")
    events = hub.api.change_deal(hub.portal.id, deal_id, {"hubspot_owner_id": other})
    status, answer = await door.post(events)
    assert status == 200 and answer["deals"][0]["result"] == "updated"
    account = await door.account(deal_id)
    assert account is not None and account.ae_email == people.manager.email


async def test_the_ops_owner_property_is_the_accounts_ops_person(door: Door) -> None:
    hub = door.hub
    hub.api.define_deal_property(hub.portal.id, "ops_owner", "string")
    ops = hub.api.add_owner(hub.portal.id, "oli@example.test", "Oli", "Ops")
    deal_id = new_deal(hub, ops_owner=ops)
    status, answer = await door.post(
        hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    )
    assert status == 200, answer
    account = await door.account(deal_id)
    assert account is not None and account.ops_email == "oli@example.test"


async def test_a_portal_without_an_ops_owner_property_still_takes_deals(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    await door.post(hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"}))
    account = await door.account(deal_id)
    assert account is not None and account.ops_email is None


async def test_a_workflow_webhook_of_another_hubspot_account_is_refused(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub, "closedwon")
    body = {
        "objectId": int(deal_id),
        "portalId": 99999,
        "properties": {"dealstage": {"value": "closedwon", "timestamp": 1, "versions": []}},
    }
    status, answer = await door.post(body)
    assert status == 403 and "HubSpot account 99999" in answer["error"]
    assert door.count("accounts") == 0


async def test_a_deal_that_is_not_closed_won_and_not_known_creates_nothing(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    events = hub.api.change_deal(hub.portal.id, deal_id, {"amount": "1000"})
    status, answer = await door.post(events)
    assert status == 200 and answer["deals"][0]["result"] == "skipped"
    assert door.count("accounts") == 0


async def test_a_missing_owner_email_is_answered_and_shown_to_admins(door: Door) -> None:
    hub = door.hub
    nobody = hub.api.add_owner(hub.portal.id, None, "No", "Email")
    deal_id = new_deal(hub, hubspot_owner_id=nobody)
    status, answer = await door.post(
        hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    )
    assert status == 200
    (outcome,) = answer["deals"]
    assert outcome["result"] == "refused"
    assert outcome["problems"] == ["ae_email is required."]
    assert door.count("accounts") == 0
    assert door.count("faults") == 1
    lines = "\n".join(await _status(door))
    assert f"the HubSpot deal {deal_id}: intake failed once" in lines


async def _status(door: Door) -> list[str]:
    from bot.admin.status import status_lines

    return await status_lines(door.bot.services, door.team)


async def test_a_workflow_webhook_takes_the_deal_in_its_body(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub, "closedwon")
    flat = {
        "dealname": "Acme Robotics – platform",
        "amount": "$48,000.00",  # as a workflow's token can render it
        "closedate": "1801353600000",
        "dealstage": "closedwon",
        "hubspot_owner_id": hub.ae_owner,
        "csm_owner": hub.csm_owner,
    }
    body = {"hs_object_id": deal_id, **flat}
    status, answer = await door.post(body)
    assert status == 200, answer
    assert answer["deals"][0]["result"] == "created"
    account = await door.account(deal_id)
    assert account is not None and str(account.arr) == "48000.00"
    assert str(account.contract_start) == "2027-01-31" and account.name == "Acme Robotics"


@pytest.mark.parametrize(
    ("tamper", "status"),
    [
        ("secret", 401),
        ("old", 401),
        ("future", 401),
        ("url", 401),
        ("content_type", 415),
    ],
)
async def test_what_hubspot_did_not_sign_is_refused_and_writes_nothing(
    door: Door, tamper: str, status: int
) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    events = hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    now = int(time.time() * 1000)
    options: dict[str, Any] = {
        "secret": {"secret": "not-the-secret"},
        "old": {"stamp_ms": now - 301_000},
        "future": {"stamp_ms": now + 301_000},
        "url": {"url": door.url + "?team_id=T1"},
        "content_type": {"content_type": "text/plain"},
    }[tamper]
    if tamper == "url":  # signed for one URL, sent to another
        body = json.dumps(events).encode()
        headers = signed_headers(SECRET, "POST", door.url, body, now, "v1")
        async with door.session.post(options["url"], data=body, headers=headers) as response:
            answered, answer = response.status, await response.json()
    else:
        answered, answer = await door.post(events, **options)
    assert answered == status
    assert answer["ok"] is False and answer["error"].endswith(".")
    assert hub.api.calls == []
    assert door.nothing_written()


@pytest.mark.parametrize(
    "payload",
    [
        [],
        [{"eventId": "x"}],
        [{"eventId": 1}] * 101,
        "a string",
        [[1, 2]],
        {"properties": 5},
    ],
)
async def test_a_body_not_shaped_as_hubspot_sends_is_400_and_writes_nothing(
    door: Door, payload: Any
) -> None:
    status, answer = await door.post(payload)
    assert status == 400 and answer["error"].endswith(".")
    assert door.nothing_written()


async def test_not_json_is_400(door: Door) -> None:
    status, answer = await door.post(None, raw=b"{not json")
    assert status == 400 and answer["ok"] is False


async def test_events_of_another_hubspot_account_are_refused(door: Door) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    events = hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    for event in events:
        event["portalId"] = 99999
    status, answer = await door.post(events)
    assert status == 403
    assert "HubSpot account 99999, not 62515" in answer["error"]
    assert door.nothing_written()


async def test_hubspot_rate_limiting_baton_is_a_retry_later_and_the_retry_gets_in(
    door: Door,
) -> None:
    hub = door.hub
    deal_id = new_deal(hub)
    status, _ = await door.post(hub.api.creation_events(hub.portal.id, deal_id))
    assert status == 200  # not closed-won yet: nothing written
    events = hub.api.change_deal(hub.portal.id, deal_id, {"dealstage": "closedwon"})
    hub.api.fail("/crm/v3/objects/deals", times=10, status=429, retry_after=7)
    status, answer = await door.post(events)
    assert status == 503 and "HubSpot" in answer["error"]
    assert door.count("accounts") == 0
    hub.api.faults.clear()
    status, answer = await door.post(events)
    assert status == 200 and answer["deals"][0]["result"] == "created"


async def test_a_door_without_its_secret_or_token_is_503(
    settings: Settings, hub: Hub, sandbox: SlackSandbox
) -> None:
    for missing, says in (
        ("baton_hubspot_client_secret", "BATON_HUBSPOT_CLIENT_SECRET is not set"),
        ("baton_hubspot_token", "BATON_HUBSPOT_TOKEN is not set"),
    ):
        bot = BotServer(
            crm_settings(settings, hub, **{missing: None}),
            ticker=False,
            process_before_response=True,
        )
        await bot.start(host="127.0.0.1", port=0)
        try:
            async with aiohttp.ClientSession() as session:
                url = f"{bot.url}/crm/hubspot"
                door = Door(bot, hub, url, session, sandbox.workspace.team_id)
                status, answer = await door.post([])
        finally:
            await bot.stop()
        assert status == 503 and answer["error"].startswith(says)
