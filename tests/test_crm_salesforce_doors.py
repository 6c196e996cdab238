"""`POST /crm/salesforce` (Flow callouts) and `/crm/salesforce/outbound` (Outbound
Messages) end to end: the Salesforce stand-in's senders and API, the real bot, the
database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest

from bot.platform.settings import Settings
from bot.runtime.runner import BotServer
from bot.sandbox import SlackSandbox
from bot.sandbox.salesforce import FlowCallout, OutboundMessenger, SalesforceOrg, SalesforceSandbox
from storage.accounts import account_by_crm
from storage.models import Account
from tests.conftest import People
from tests.helpers import row_counts

SECRET = "flow-named-credential-secret"


@dataclass
class Org:
    org: SalesforceOrg
    api: SalesforceSandbox
    ae: str
    csm: str
    account: str


@dataclass
class Doors:
    bot: BotServer
    sf: Org
    team: str
    at_start: dict[str, int] = field(default_factory=dict)

    @property
    def flow(self) -> FlowCallout:
        return FlowCallout(f"{self.bot.url}/crm/salesforce", SECRET, org=self.sf.org)

    def outbound(self, organization_id: str | None = None) -> OutboundMessenger:
        return OutboundMessenger(
            f"{self.bot.url}/crm/salesforce/outbound",
            organization_id or self.sf.org.organization_id,
            org=self.sf.org,
        )

    async def account(self, crm_id: str) -> Account | None:
        return await self.bot.services.db.run(account_by_crm, self.team, crm_id)

    def count(self, table: str) -> int:
        return row_counts(self.bot.services.engine)[table]

    def nothing_written(self) -> bool:
        """Every table as it was when the bot had started."""
        return row_counts(self.bot.services.engine) == self.at_start


@pytest.fixture
async def sf(people: People, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Org]:
    org = SalesforceOrg()
    api = SalesforceSandbox(org, page_size=200)
    await api.start()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", api.ca_file)  # trust the stand-in's certificate
    ae = org.add_user("Ana Ruiz", people.ae.email)
    csm = org.add_user("Chen Wei", people.csm.email)
    account = org.add_account("Acme Robotics", owner_id=ae)
    yield Org(org, api, ae, csm, account)
    await api.stop()


def crm_settings(settings: Settings, sf: Org, **more: Any) -> Settings:
    return settings.model_copy(
        update={
            "baton_salesforce_secret": SECRET,
            "baton_salesforce_org_ids": sf.org.organization_id,
            "baton_salesforce_instance_url": sf.api.instance_url,
            "baton_salesforce_token": sf.org.access_token,
            **more,
        }
    )


async def started(settings: Settings) -> BotServer:
    bot = BotServer(settings, ticker=False, process_before_response=True)
    await bot.start(host="127.0.0.1", port=0)
    return bot


@pytest.fixture
async def doors(settings: Settings, sf: Org, sandbox: SlackSandbox) -> AsyncIterator[Doors]:
    bot = await started(crm_settings(settings, sf))
    doors = Doors(bot, sf, sandbox.workspace.team_id)
    doors.at_start = row_counts(bot.services.engine)
    yield doors
    await bot.stop()


def won_opportunity(sf: Org, **values: Any) -> str:
    opportunity = sf.org.add_opportunity(
        "Acme Robotics – platform",
        owner_id=sf.ae,
        close_date=date(2027, 1, 4),
        amount="48000",
        account_id=sf.account,
        CSM__c=sf.csm,
        Renewal_Date__c=date(2028, 1, 31),
        **values,
    )
    sf.org.change(opportunity, StageName="Closed Won")
    return opportunity


async def test_a_flow_callout_of_a_won_opportunity_starts_the_handoff(doors: Doors) -> None:
    opportunity = won_opportunity(doors.sf)
    delivery = await doors.flow.post([opportunity])
    assert delivery.status == 200, delivery.body
    account = await doors.account(opportunity)
    assert account is not None
    assert account.name == "Acme Robotics"  # Account.Name, from the callout's JSON
    assert (account.ae_email, account.csm_email) == ("ana@example.test", "chen@example.test")
    assert str(account.arr) == "48000.00" and str(account.contract_start) == "2027-01-04"
    assert account.crm_url == (
        f"{doors.sf.api.instance_url}/lightning/r/Opportunity/{opportunity}/view"
    )


async def test_a_flow_callout_with_one_record_alone_is_taken_too(doors: Doors) -> None:
    opportunity = won_opportunity(doors.sf)
    delivery = await doors.flow.post([opportunity], single=True)
    assert delivery.status == 200 and doors.count("accounts") == 1
    again = await doors.flow.post([opportunity], single=True)
    assert again.status == 200 and doors.count("accounts") == 1


@pytest.mark.parametrize("authorization", ["", "Bearer wrong", f"Basic {SECRET}", SECRET])
async def test_a_flow_callout_without_the_secret_is_401_and_writes_nothing(
    doors: Doors, authorization: str
) -> None:
    opportunity = won_opportunity(doors.sf)
    body = b'{"records": []}'
    delivery = await doors.flow.post_raw(body, authorization=authorization)
    assert delivery.status == 401
    assert (await doors.flow.post_raw(body)).status == 400  # the right secret: then the body
    assert await doors.account(opportunity) is None


@pytest.mark.parametrize(
    "body", [b"[]", b'"text"', b'{"records": "no"}', b'{"records": [1]}', b"{broken"]
)
async def test_a_flow_body_not_shaped_as_an_opportunity_is_400(doors: Doors, body: bytes) -> None:
    delivery = await doors.flow.post_raw(body)
    assert delivery.status == 400
    assert doors.nothing_written()


async def test_an_outbound_message_is_acknowledged_and_its_users_emails_read(
    doors: Doors,
) -> None:
    opportunity = won_opportunity(doors.sf)
    messenger = doors.outbound()
    delivery = await messenger.send([opportunity])
    assert delivery.status == 200 and delivery.acked, delivery.body
    account = await doors.account(opportunity)
    assert account is not None
    # An Outbound Message carries OwnerId and CSM__c: the emails come from the API.
    assert (account.ae_email, account.csm_email) == ("ana@example.test", "chen@example.test")
    assert any("FROM User" in q for q in doors.sf.api.queries())


async def test_a_retried_outbound_message_is_acknowledged_and_taken_once(doors: Doors) -> None:
    opportunity = won_opportunity(doors.sf)
    messenger = doors.outbound()
    await messenger.send([opportunity])
    queries = len(doors.sf.api.queries())
    (retry,) = await messenger.redeliver(messenger.sent[-1])
    assert retry.acked
    assert len(doors.sf.api.queries()) == queries  # nothing read again
    assert doors.count("accounts") == 1 and doors.count("crm_events") == 1


async def test_an_outbound_message_of_an_opportunity_not_won_is_acknowledged_and_ignored(
    doors: Doors,
) -> None:
    sf = doors.sf
    opportunity = sf.org.add_opportunity(
        "Open deal", owner_id=sf.ae, close_date=date(2027, 2, 1), CSM__c=sf.csm
    )
    delivery = await doors.outbound().send([opportunity])
    assert delivery.acked and doors.count("accounts") == 0


async def test_an_outbound_message_from_another_org_is_refused_and_writes_nothing(
    doors: Doors,
) -> None:
    opportunity = won_opportunity(doors.sf)
    stranger = SalesforceOrg().organization_id
    delivery = await doors.outbound(stranger).send([opportunity])
    assert delivery.status == 403 and not delivery.acked
    assert b"not in BATON_SALESFORCE_ORG_IDS" in delivery.body
    assert doors.nothing_written()


@pytest.mark.parametrize(
    "body",
    [
        b"not xml",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>',
        b"<soapenv:Envelope xmlns:soapenv='http://schemas.xmlsoap.org/soap/envelope/'/>",
        "\ud800".encode("utf-8", "surrogatepass"),
    ],
)
async def test_a_malformed_outbound_message_is_a_soap_fault_and_writes_nothing(
    doors: Doors, body: bytes
) -> None:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{doors.bot.url}/crm/salesforce/outbound",
            data=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        ) as response,
    ):
        assert response.status == 400
        text = await response.text()
    assert "<faultcode>" in text and "Ack" not in text
    assert doors.nothing_written()


async def test_doors_without_their_settings_are_503(
    settings: Settings, sf: Org, sandbox: SlackSandbox
) -> None:
    opportunity = won_opportunity(sf)
    bot = await started(
        crm_settings(settings, sf, baton_salesforce_secret=None, baton_salesforce_org_ids="")
    )
    try:
        doors = Doors(bot, sf, sandbox.workspace.team_id)
        flow = await doors.flow.post([opportunity])
        outbound = await doors.outbound().send([opportunity])
    finally:
        await bot.stop()
    assert flow.status == 503 and b"BATON_SALESFORCE_SECRET is not set" in flow.body
    assert outbound.status == 503 and b"BATON_SALESFORCE_ORG_IDS is not set" in outbound.body
