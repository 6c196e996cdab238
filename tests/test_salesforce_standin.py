"""The real simple-salesforce client, and Baton's SalesforceApi on it, against the
loopback Salesforce org over HTTPS: paging, ordering, SOQL refused as Salesforce refuses
it, the session, the daily budget and injected faults."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import pytest
import requests
from hypothesis import given
from hypothesis import strategies as st
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceMalformedRequest,
)

from bot.crm.salesforce_api import SalesforceApi, SalesforceError, soql_datetime
from bot.sandbox.salesforce import SalesforceOrg, SalesforceSandbox, SoqlError
from bot.sandbox.salesforce.soql import run
from flows.crm.salesforce import flatten, id18
from tests.nasty import hostile_text

T = TypeVar("T")
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
FIELDS = [
    "Name",
    "Amount",
    "CloseDate",
    "Owner.Email",
    "CSM__r.Email",
    "Account.Name",
    "Renewal_Date__c",
]


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(days=30)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def salesforce() -> AsyncIterator[SalesforceSandbox]:
    sandbox = SalesforceSandbox(SalesforceOrg(clock=Clock()), page_size=200)
    await sandbox.start()
    yield sandbox
    close_sessions()
    await sandbox.stop()


_SESSIONS: list[requests.Session] = []  # closed before the sandbox stops


def close_sessions() -> None:
    while _SESSIONS:
        _SESSIONS.pop().close()


def session_for(sandbox: SalesforceSandbox) -> requests.Session:
    session = requests.Session()
    _SESSIONS.append(session)
    session.trust_env = False  # REQUESTS_CA_BUNDLE would otherwise override verify
    session.verify = sandbox.ca_file
    return session


def api(
    sandbox: SalesforceSandbox, token: str | None = None, version: str = "59.0"
) -> SalesforceApi:
    return SalesforceApi(
        sandbox.instance_url,
        sandbox.org.access_token if token is None else token,
        version,
        session=session_for(sandbox),
    )


def raw(sandbox: SalesforceSandbox) -> Salesforce:
    return Salesforce(
        instance_url=sandbox.instance_url,
        session_id=sandbox.org.access_token,
        session=session_for(sandbox),
    )


async def off_loop(work: Callable[[], T]) -> T:
    """The client is synchronous: run it in a thread while the sandbox serves on the loop."""
    return await asyncio.to_thread(work)


def book(org: SalesforceOrg, won: int, *, seed: int = 7) -> tuple[list[str], str]:
    """`won` won deals changed one second apart after T0 (created in shuffled order), and
    deals that must not come back: open ones, and a won one changed before T0."""
    ada = org.add_user("Ada Lovelace", "ada@example.com")
    csm = org.add_user("Cy Smith", "cy@example.com")
    acme = org.add_account("Acme", owner_id=ada)
    order = list(range(won))
    random.Random(seed).shuffle(order)
    by_time: dict[int, str] = {}
    for n in order:
        by_time[n] = org.add_opportunity(
            f"Deal {n}",
            owner_id=ada,
            account_id=acme if n % 2 else None,
            close_date=date(2025, 3, 31),
            amount=Decimal("1234.56") + n,
            stage_name="Closed Won",
            at=T0 + timedelta(seconds=n + 1),
            Renewal_Date__c=date(2026, 3, 31),
            CSM__c=csm if n % 3 == 0 else None,
        )
    for n in range(5):
        org.add_opportunity(
            f"Open {n}", owner_id=ada, close_date=date(2025, 6, 30), at=T0 + timedelta(hours=1)
        )
    org.add_opportunity(
        "Old win",
        owner_id=ada,
        close_date=date(2024, 12, 1),
        stage_name="Closed Won",
        at=T0 - timedelta(days=1),
    )
    return [by_time[n] for n in range(won)], ada


# --- Baton's client --------------------------------------------------------------------------------
async def test_every_page_in_order_450_records_in_pages_of_200(
    salesforce: SalesforceSandbox,
) -> None:
    expected, _ = book(salesforce.org, 450)
    client = api(salesforce)
    records = await off_loop(lambda: list(client.changed_since(T0, FIELDS)))
    assert [r["Id"] for r in records] == expected
    stamps = [r["LastModifiedDate"] for r in records]
    assert stamps == sorted(stamps) and len(set(stamps)) == 450
    paths = [call.path for call in salesforce.calls]
    assert paths[0] == "/services/data/v59.0/query/"
    assert [p.rsplit("-", 1)[1] for p in paths[1:]] == ["200", "400"]
    assert all(call.status == 200 for call in salesforce.calls)
    assert salesforce.queries() == [
        "SELECT Id, LastModifiedDate, Name, Amount, CloseDate, Owner.Email, CSM__r.Email,"
        " Account.Name, Renewal_Date__c FROM Opportunity WHERE IsWon = true AND"
        " LastModifiedDate > 2025-01-01T09:00:00Z ORDER BY LastModifiedDate ASC, Id ASC"
    ]


async def test_records_carry_parents_and_exact_amounts(salesforce: SalesforceSandbox) -> None:
    expected, _ = book(salesforce.org, 4)
    client = api(salesforce)
    since = T0 + timedelta(milliseconds=500)  # the literal is whole seconds: 09:00:00Z
    records = await off_loop(lambda: list(client.changed_since(since, FIELDS)))
    assert [r["Id"] for r in records] == expected
    first = records[0]
    assert first["attributes"] == {
        "type": "Opportunity",
        "url": f"/services/data/v59.0/sobjects/Opportunity/{expected[0]}",
    }
    assert first["Amount"] == Decimal("1234.56")
    assert first["Account"] is None  # Deal 0 has no account: a null parent
    assert first["Owner"]["attributes"]["type"] == "User"
    assert flatten(first) == {
        "Id": expected[0],
        "LastModifiedDate": "2025-01-01T09:00:01.000+0000",
        "Name": "Deal 0",
        "Amount": "1234.56",
        "CloseDate": "2025-03-31",
        "Owner.Email": "ada@example.com",
        "CSM__r.Email": "cy@example.com",
        "Account": None,
        "Renewal_Date__c": "2026-03-31",
    }
    assert flatten(records[1])["Account.Name"] == "Acme"
    assert flatten(records[1])["CSM__r"] is None
    # A change later in the same second as `since` is not skipped by the rounding down.
    salesforce.org.change(expected[2], at=T0 + timedelta(seconds=10, milliseconds=700))
    since = T0 + timedelta(seconds=10, milliseconds=500)
    later = await off_loop(lambda: list(client.changed_since(since, [])))
    assert [r["Id"] for r in later] == [expected[2]]


async def test_a_change_moves_a_deal_to_the_end(salesforce: SalesforceSandbox) -> None:
    expected, _ = book(salesforce.org, 3)
    salesforce.org.change(expected[0], Name="Deal 0, renamed", at=T0 + timedelta(minutes=5))
    client = api(salesforce)
    records = await off_loop(lambda: list(client.changed_since(T0, ["Name"])))
    assert [r["Id"] for r in records] == [expected[1], expected[2], expected[0]]
    assert records[-1]["Name"] == "Deal 0, renamed"
    assert salesforce.org.record(expected[0])["SystemModstamp"] == T0 + timedelta(minutes=5)
    salesforce.org.change(expected[1], StageName="Closed Lost")  # no longer won
    records = await off_loop(lambda: list(client.changed_since(T0, ["Name"])))
    assert expected[1] not in [r["Id"] for r in records]
    with pytest.raises(ValueError):
        salesforce.org.change(expected[2], IsWon=False)  # read-only, as in Salesforce


async def test_ties_come_back_by_id(salesforce: SalesforceSandbox) -> None:
    org = salesforce.org
    owner = org.add_user("Ada", "ada@example.com")
    made = [
        org.add_opportunity(
            f"Tie {n}",
            owner_id=owner,
            close_date=date(2025, 1, 1),
            stage_name="Closed Won",
            at=T0 + timedelta(seconds=5),
        )
        for n in range(63)  # ids' last counter digit runs through 9 < Z < a: case matters
    ]
    client = api(salesforce)
    records = await off_loop(lambda: list(client.changed_since(T0, [])))
    assert [r["Id"] for r in records] == sorted(made)


async def test_user_emails_by_the_ids_given(salesforce: SalesforceSandbox) -> None:
    org = salesforce.org
    users = [org.add_user(f"User {n}", f"user{n}@example.com") for n in range(120)]
    asked = [users[0][:15], *users[1:], users[5]]  # a 15-character id, and one twice
    unknown = id18("005Zz000003Tq9A")
    assert unknown is not None
    client = api(salesforce)
    emails = await off_loop(lambda: client.user_emails([*asked, unknown]))
    assert emails == {given: f"user{users.index(id18(given))}@example.com" for given in asked}  # type: ignore[arg-type]
    assert len(salesforce.queries()) == 3  # 50 ids a query
    assert all(
        q.startswith("SELECT Id, Email FROM User WHERE Id IN ('005") for q in salesforce.queries()
    )
    assert await off_loop(lambda: client.user_emails([])) == {}


@pytest.mark.parametrize(
    "bad",
    ["005' OR Id != '", "0065e00000ZkM3hAAF", "0055e000003Tq9AAAA", "", 5, None],
)
async def test_bad_user_ids_are_refused_before_any_call(
    salesforce: SalesforceSandbox, bad: Any
) -> None:
    client = api(salesforce)
    with pytest.raises(SalesforceError) as raised:
        client.user_emails([bad])
    assert raised.value.sentence.endswith("is not a Salesforce user id.")
    assert salesforce.calls == []


@pytest.mark.parametrize(
    "field",
    [
        "Name; DELETE",
        "Name FROM User --",
        "Owner.Email.Name",
        "Owner.",
        "1Name",
        "Na me",
        "",
        "Name'",
        7,
    ],
)
async def test_bad_field_names_are_refused_before_any_call(
    salesforce: SalesforceSandbox, field: Any
) -> None:
    client = api(salesforce)
    with pytest.raises(SalesforceError) as raised:
        client.changed_since(T0, ["Name", field])
    assert raised.value.sentence.endswith("is not a Salesforce field name.")
    assert salesforce.calls == []


def test_the_datetime_literal() -> None:
    assert (
        soql_datetime(datetime(2025, 1, 31, 9, 30, 15, 999999, tzinfo=UTC))
        == "2025-01-31T09:30:15Z"
    )
    plus_two = datetime(2025, 1, 31, 11, 30, tzinfo=UTC).astimezone(ZoneInfo("Europe/Paris"))
    assert soql_datetime(plus_two) == "2025-01-31T11:30:00Z"
    assert soql_datetime(datetime(2025, 1, 31, 9, 30)) == "2025-01-31T09:30:00Z"  # naive: UTC
    assert soql_datetime(datetime(1, 1, 1, tzinfo=UTC)) == "1970-01-01T00:00:00Z"


async def test_an_unknown_field_is_invalid_field(salesforce: SalesforceSandbox) -> None:
    book(salesforce.org, 1)
    client = api(salesforce)
    with pytest.raises(SalesforceError) as raised:
        await off_loop(lambda: list(client.changed_since(T0, ["Renewal_Date"])))
    assert raised.value.sentence == (
        "Salesforce does not know a field Baton asked for (No such column 'Renewal_Date' on"
        " entity 'Opportunity'. If you are attempting to use a custom field, be sure to append"
        " the '__c' after the custom field name. Please reference your WSDL or the describe"
        " call for the appropriate names): check the CRM mapping."
    )
    assert raised.value.retry_after is None
    with pytest.raises(SalesforceError, match="Didn't understand relationship 'Manager'"):
        await off_loop(lambda: list(client.changed_since(T0, ["Manager.Email"])))
    assert [c.error_code for c in salesforce.calls] == ["INVALID_FIELD", "INVALID_FIELD"]


async def test_a_wrong_token_is_invalid_session_id(salesforce: SalesforceSandbox) -> None:
    sf = Salesforce(
        instance_url=salesforce.instance_url, session_id="00D!nope", session=session_for(salesforce)
    )
    with pytest.raises(SalesforceExpiredSession) as raised:
        await off_loop(lambda: sf.query("SELECT Id FROM User"))
    assert raised.value.status == 401
    assert raised.value.content == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]
    client = api(salesforce)
    salesforce.revoke()
    with pytest.raises(SalesforceError) as translated:
        await off_loop(lambda: list(client.changed_since(T0, [])))
    assert "access token" in translated.value.sentence and translated.value.retry_after is None


async def test_simple_salesforce_sends_a_bearer_token(salesforce: SalesforceSandbox) -> None:
    sf = raw(salesforce)
    assert sf.headers["Authorization"] == f"Bearer {salesforce.org.access_token}"
    result = await off_loop(lambda: sf.query("select id, NAME from user"))
    assert result == {"totalSize": 0, "done": True, "records": []}
    oauth = await off_loop(
        lambda: requests.get(
            f"{salesforce.instance_url}/services/data/v59.0/query/",
            params={"q": "SELECT Id FROM User"},
            headers={"Authorization": f"OAuth {salesforce.org.access_token}"},
            verify=salesforce.ca_file,
            timeout=10,
        )
    )
    assert oauth.status_code == 401  # the sandbox takes Bearer only: stricter, never laxer


async def test_soql_is_case_insensitive_and_answers_canonical_names(
    salesforce: SalesforceSandbox,
) -> None:
    book(salesforce.org, 3)
    sf = raw(salesforce)
    result = await off_loop(
        lambda: sf.query(
            "select id, owner.EMAIL from OPPORTUNITY where ISWON = TRUE order by lastmodifieddate desc nulls last limit 2"
        )
    )
    assert result["totalSize"] == 2 and result["done"] is True
    assert [list(r) for r in result["records"]] == [["attributes", "Id", "Owner"]] * 2
    assert result["records"][0]["Owner"]["Email"] == "ada@example.com"


UNSUPPORTED = [
    (
        "SELECT Id FROM Opportunity WHERE IsWon = true OR IsWon = false",
        "MALFORMED_QUERY",
        "unexpected token: 'OR'",
    ),
    (
        "SELECT Id FROM Opportunity WHERE Name LIKE 'A%'",
        "MALFORMED_QUERY",
        "unexpected token: 'LIKE'",
    ),
    ("SELECT COUNT() FROM Opportunity", "MALFORMED_QUERY", "unexpected token: '('"),
    (
        "SELECT Id, (SELECT Id FROM OpportunityLineItems) FROM Opportunity",
        "MALFORMED_QUERY",
        "unexpected token: '('",
    ),
    (
        "SELECT Id FROM Opportunity GROUP BY StageName",
        "MALFORMED_QUERY",
        "unexpected token: 'GROUP'",
    ),
    (
        "SELECT Id FROM Opportunity LIMIT 5 OFFSET 5",
        "MALFORMED_QUERY",
        "unexpected token: 'OFFSET'",
    ),
    ("SELECT Id FROM Opportunity WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
    (
        "SELECT Id FROM Opportunity WHERE Name = 'unterminated",
        "MALFORMED_QUERY",
        "unexpected token: '''",
    ),
    ("SELECT Id, Id FROM Opportunity", "MALFORMED_QUERY", "duplicate field selected: Id"),
    ("SELECT Owner.Manager.Email FROM Opportunity", "MALFORMED_QUERY", "one parent level"),
    (
        "SELECT Id FROM Opportunity WHERE LastModifiedDate > 2025-01-01T00:00:00.000Z",
        "MALFORMED_QUERY",
        "unexpected token",
    ),
    (
        "SELECT Id FROM Opportunity WHERE Name = 'a\\qb'",
        "MALFORMED_QUERY",
        "Illegal character sequence '\\q'",
    ),
    (
        "SELECT Id FROM Opportunities",
        "INVALID_TYPE",
        "sObject type 'Opportunities' is not supported.",
    ),
    (
        "SELECT Id FROM Opportunity WHERE IsWon = 'true'",
        "INVALID_QUERY_FILTER_OPERATOR",
        "must be of type boolean and should not be enclosed in quotes",
    ),
    (
        "SELECT Id FROM Opportunity WHERE LastModifiedDate > 2025-01-01",
        "INVALID_QUERY_FILTER_OPERATOR",
        "must be of type dateTime",
    ),
    (
        "SELECT Id FROM Opportunity WHERE Name = 5",
        "INVALID_QUERY_FILTER_OPERATOR",
        "must be of type string and should be enclosed in quotes",
    ),
    (
        "SELECT Id FROM User WHERE Id IN ('005nope')",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid ID field: 005nope",
    ),
    (
        "SELECT Id FROM Opportunity WHERE IsWon > true",
        "INVALID_QUERY_FILTER_OPERATOR",
        "invalid operator on boolean field",
    ),
]


@pytest.mark.parametrize(("soql", "code", "words"), UNSUPPORTED)
async def test_unsupported_soql_is_refused_as_salesforce_refuses(
    salesforce: SalesforceSandbox, soql: str, code: str, words: str
) -> None:
    sf = raw(salesforce)
    with pytest.raises(SalesforceMalformedRequest) as raised:
        await off_loop(lambda: sf.query(soql))
    ((error,),) = [raised.value.content]
    assert error["errorCode"] == code
    assert words in error["message"]
    assert error["message"].startswith("\n") or code == "MALFORMED_QUERY"
    assert "ERROR at Row:1:Column:" in error["message"] or "Query is too long" in error["message"]


async def test_the_error_points_at_the_column(salesforce: SalesforceSandbox) -> None:
    sf = raw(salesforce)
    with pytest.raises(SalesforceMalformedRequest) as raised:
        await off_loop(lambda: sf.query("SELECT Id, Nope FROM Opportunity"))
    assert raised.value.content[0]["message"].startswith(
        "\nSELECT Id, Nope FROM Opportunity\n           ^\nERROR at Row:1:Column:12\nNo such column 'Nope'"
    )


async def test_ids_in_soql_take_either_length(salesforce: SalesforceSandbox) -> None:
    org = salesforce.org
    ada = org.add_user("Ada", "ada@example.com")
    sf = raw(salesforce)
    result = await off_loop(lambda: sf.query(f"SELECT Email FROM User WHERE Id = '{ada[:15]}'"))
    assert [r["Email"] for r in result["records"]] == ["ada@example.com"]
    result = await off_loop(
        lambda: sf.query("SELECT Email FROM User WHERE Email = 'ADA@EXAMPLE.COM' AND Name != NULL")
    )
    assert result["totalSize"] == 1  # text compares case-insensitively


# --- limits, faults and transport -------------------------------------------------------------
async def test_the_daily_budget_is_request_limit_exceeded(salesforce: SalesforceSandbox) -> None:
    book(salesforce.org, 1)
    salesforce.daily_limit = 3
    sf = raw(salesforce)
    await off_loop(lambda: sf.query("SELECT Id FROM User"))
    assert sf.api_usage["api-usage"].used == 1 and sf.api_usage["api-usage"].total == 3
    salesforce.spend(1)
    client = api(salesforce)
    assert client.api_usage is None
    assert len(await off_loop(lambda: list(client.changed_since(T0, [])))) == 1
    assert client.api_usage == (3, 3)
    with pytest.raises(SalesforceError) as raised:
        await off_loop(lambda: list(client.changed_since(T0, [])))
    assert raised.value.sentence == (
        "The Salesforce org has used up its daily API requests; Baton will try again later."
    )
    assert raised.value.retry_after == 3600.0
    assert (
        salesforce.calls[-1].status == 403
        and salesforce.calls[-1].error_code == "REQUEST_LIMIT_EXCEEDED"
    )


async def test_a_failed_page_fails_the_iteration_after_the_pages_before_it(
    salesforce: SalesforceSandbox,
) -> None:
    expected, _ = book(salesforce.org, 450)
    salesforce.fail("/services/data/v59.0/query/01g", times=1, status=503)
    client = api(salesforce)
    seen: list[str] = []

    def read() -> None:
        for record in client.changed_since(T0, []):
            seen.append(record["Id"])

    with pytest.raises(SalesforceError) as raised:
        await off_loop(read)
    assert seen == expected[:200]
    assert (
        raised.value.sentence
        == "Salesforce had a problem of its own (HTTP 503); Baton will try again."
    )
    assert raised.value.retry_after == 60.0
    again = await off_loop(lambda: [r["Id"] for r in client.changed_since(T0, [])])
    assert again == expected


async def test_an_expired_query_locator(salesforce: SalesforceSandbox) -> None:
    book(salesforce.org, 250)
    clock = salesforce.org.clock
    assert isinstance(clock, Clock)
    client = api(salesforce)
    pages: Iterator[dict[str, Any]] = client.changed_since(T0, [])
    first = await off_loop(lambda: [next(pages) for _ in range(200)])
    assert len(first) == 200
    clock.now += timedelta(minutes=16)  # Salesforce drops a locator idle for 15 minutes
    with pytest.raises(SalesforceError) as raised:
        await off_loop(lambda: next(pages))
    assert "start over" in raised.value.sentence and raised.value.retry_after == 60.0
    assert salesforce.calls[-1].error_code == "INVALID_QUERY_LOCATOR"


async def test_an_injected_500_and_a_non_salesforce_path(salesforce: SalesforceSandbox) -> None:
    salesforce.fail("/services/data/", status=500)
    client = api(salesforce)
    with pytest.raises(SalesforceError, match=r"HTTP 500"):
        await off_loop(lambda: client.user_emails([salesforce.org.add_user("A", "a@example.com")]))
    assert salesforce.calls[-1].error_code == "UNKNOWN_EXCEPTION"
    old = api(salesforce, version="20.0")
    with pytest.raises(SalesforceError, match="no query API at this instance URL"):
        await off_loop(lambda: list(old.changed_since(T0, [])))


async def test_methods_and_sizes_salesforce_refuses(salesforce: SalesforceSandbox) -> None:
    url = f"{salesforce.instance_url}/services/data/v59.0/query/"
    headers = {"Authorization": f"Bearer {salesforce.org.access_token}"}
    session = session_for(salesforce)
    posted = await off_loop(lambda: session.post(url, headers=headers, data=b"{}"))
    assert posted.status_code == 405
    assert posted.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"
    huge = "SELECT Id FROM User WHERE Name IN (" + ", ".join(["'x'"] * 2000) + ")"
    too_long = await off_loop(lambda: session.get(url, headers=headers, params={"q": huge}))
    assert too_long.status_code == 414
    empty = await off_loop(lambda: session.get(url, headers=headers))
    assert empty.status_code == 400 and empty.json()[0]["errorCode"] == "MALFORMED_QUERY"
    assert empty.headers["Content-Type"].startswith("application/json")


async def test_two_orgs_see_their_own_records(salesforce: SalesforceSandbox) -> None:
    book(salesforce.org, 2)
    other = salesforce.add_org(SalesforceOrg(clock=Clock()))
    theirs = api(salesforce, token=other.access_token)
    assert await off_loop(lambda: list(theirs.changed_since(T0, []))) == []
    assert len(await off_loop(lambda: list(api(salesforce).changed_since(T0, [])))) == 2


async def test_transport_failures_are_sentences(salesforce: SalesforceSandbox) -> None:
    untrusted = requests.Session()
    _SESSIONS.append(untrusted)
    untrusted.trust_env = False
    client = SalesforceApi(salesforce.instance_url, salesforce.org.access_token, session=untrusted)
    with pytest.raises(SalesforceError, match="TLS certificate") as raised:
        await off_loop(lambda: list(client.changed_since(T0, [])))
    assert raised.value.retry_after == 60.0
    port = salesforce.instance_url.rsplit(":", 1)[1]
    await salesforce.stop()
    closed = SalesforceApi(f"https://127.0.0.1:{port}", "token", session=untrusted)
    with pytest.raises(SalesforceError, match="could not reach Salesforce"):
        await off_loop(lambda: list(closed.changed_since(T0, [])))


@pytest.mark.parametrize(
    ("instance_url", "token", "version", "words"),
    [
        ("http://acme.my.salesforce.com", "t", "59.0", "https://"),
        ("acme.my.salesforce.com", "t", "59.0", "https://"),
        ("https://", "t", "59.0", "https://"),
        ("https://acme.my.salesforce.com", " ", "59.0", "access token"),
        ("https://acme.my.salesforce.com", "t", "59", "API version"),
        ("https://acme.my.salesforce.com", "t", "v59.0", "API version"),
    ],
)
def test_a_client_that_cannot_work_is_refused_at_once(
    instance_url: str, token: str, version: str, words: str
) -> None:
    with pytest.raises(SalesforceError, match=words):
        SalesforceApi(instance_url, token, version)


# --- the stand-in never answers a 5xx of its own ------------------------------------------------------
SOQL_WORDS = st.sampled_from(
    [
        "SELECT",
        "FROM",
        "WHERE",
        "AND",
        "OR",
        "IN",
        "ORDER",
        "BY",
        "ASC",
        "DESC",
        "NULLS",
        "FIRST",
        "LAST",
        "LIMIT",
        "Id",
        "Name",
        "Amount",
        "IsWon",
        "Owner.Email",
        "CSM__r.Email",
        "LastModifiedDate",
        "CloseDate",
        "Opportunity",
        "User",
        ",",
        "(",
        ")",
        "=",
        "!=",
        "<>",
        ">",
        "<=",
        "TRUE",
        "null",
        "'005'",
        "'a\\'b'",
        "'\\z'",
        "'",
        "2025-01-01",
        "2025-13-01",
        "2025-01-01T00:00:00Z",
        "2025-01-01T25:00:00+01:00",
        "12.5",
        "-3",
        "7",
    ]
)


@given(st.lists(st.one_of(SOQL_WORDS, hostile_text(max_size=8)), max_size=14).map(" ".join))
def test_any_query_is_answered_or_refused_with_a_salesforce_error(soql: str) -> None:
    org = SalesforceOrg()
    owner = org.add_user("Ada", "ada@example.com")
    org.add_opportunity("A", owner_id=owner, close_date=date(2025, 1, 1), amount=5)
    org.add_opportunity("B", owner_id=owner, close_date=date(2025, 1, 1), stage_name="Closed Won")
    for text in (
        soql,
        "SELECT Id FROM Opportunity WHERE " + soql,
        "SELECT Id FROM Opportunity " + soql,
    ):
        try:
            records = run(org, text, "59.0")
        except SoqlError as error:
            assert error.error_code in {
                "MALFORMED_QUERY",
                "INVALID_FIELD",
                "INVALID_TYPE",
                "INVALID_QUERY_FILTER_OPERATOR",
            }
            assert "ERROR at Row:" in error.message
        else:
            assert all(
                record["attributes"]["type"] in ("Opportunity", "User") for record in records
            )
