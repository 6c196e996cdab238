"""HubSpot's v3 request signature and the shapes of its webhook bodies (flows/crm/hubspot.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.crm.hubspot import (
    MAX_EVENTS,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DealEvent,
    is_signed_v3,
    parse_events,
    parse_workflow,
    signature_v3,
    signed_uri,
)

SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
URI = "https://baton.example.com/crm/hubspot?portal=62515"
BODY = b'[{"eventId":1,"objectId":123}]'
NOW_MS = 1_800_000_000_000


def headers_for(body: bytes = BODY, uri: str = URI, stamp: int = NOW_MS, method: str = "POST"):
    stamp_text = str(stamp)
    return {
        SIGNATURE_HEADER: signature_v3(SECRET, method, uri, body, stamp_text),
        TIMESTAMP_HEADER: stamp_text,
    }


def test_known_answer_from_hubspots_own_sdk() -> None:
    # hubspot-api-python's tests/spec/utils/test_signature.py, test_get_signature__v3.
    assert (
        signature_v3(
            SECRET,
            "POST",
            "https://www.example.com/webhook_uri",
            b"{'example_field':'example_value'}",
            "15000000",
        )
        == "HPW73RUtKmcYoEDADG0s6MmGFWUzWJKAW07r8RDgcQw="
    )


def test_the_library_and_flows_agree() -> None:
    from hubspot.utils.signature import Signature

    body = '[{"eventId":7,"propertyValue":"Zoë"}]'
    ours = signature_v3(SECRET, "POST", URI, body.encode(), "1700000000000")
    theirs = Signature.get_signature(SECRET, body, "v3", URI, "POST", "1700000000000")
    assert ours == theirs


def test_the_twelve_encoded_characters_are_decoded_and_nothing_else() -> None:
    encoded = "https://x.test/h%3Aa%2Fb%3Fc%40d%21e%24f%27g%28h%29i%2Aj%2Ck%3Bl"
    assert signed_uri(encoded) == "https://x.test/h:a/b?c@d!e$f'g(h)i*j,k;l"
    assert signed_uri("https://x.test/a%3ab") == "https://x.test/a:b"  # either case
    assert signed_uri("https://x.test/a%20b%25c%253A") == "https://x.test/a%20b%25c%253A"
    plain = signature_v3(SECRET, "POST", "https://x.test/h?at=a:b", BODY, "1")
    assert signature_v3(SECRET, "POST", "https://x.test/h?at=a%3Ab", BODY, "1") == plain
    assert signature_v3(SECRET, "POST", "https://x.test/h?at=a%20b", BODY, "1") != plain


def test_a_fresh_signature_is_accepted() -> None:
    assert is_signed_v3(SECRET, "POST", URI, BODY, headers_for(), NOW_MS)


def test_header_names_are_read_whatever_their_case() -> None:
    lowered = {name.lower(): value for name, value in headers_for().items()}
    assert is_signed_v3(SECRET, "POST", URI, BODY, lowered, NOW_MS)


@pytest.mark.parametrize(
    ("secret", "method", "uri", "body"),
    [
        ("another-secret", "POST", URI, BODY),
        (SECRET, "GET", URI, BODY),
        (SECRET, "POST", URI + "&x=1", BODY),
        (SECRET, "POST", "http://baton.example.com/crm/hubspot?portal=62515", BODY),
        (SECRET, "POST", URI, BODY + b" "),
        (SECRET, "POST", URI, b""),
        ("", "POST", URI, BODY),
    ],
)
def test_any_change_is_refused(secret: str, method: str, uri: str, body: bytes) -> None:
    assert not is_signed_v3(secret, method, uri, body, headers_for(), NOW_MS)


def test_a_changed_timestamp_is_refused() -> None:
    headers = headers_for()
    headers[TIMESTAMP_HEADER] = str(NOW_MS - 1)
    assert not is_signed_v3(SECRET, "POST", URI, BODY, headers, NOW_MS)


@pytest.mark.parametrize(
    ("age_ms", "accepted"),
    [
        (0, True),
        (5 * 60 * 1000, True),
        (5 * 60 * 1000 + 1, False),
        (3_600_000, False),
        (-5 * 60 * 1000, True),
        (-5 * 60 * 1000 - 1, False),
    ],
)
def test_the_five_minute_window(age_ms: int, accepted: bool) -> None:
    headers = headers_for(stamp=NOW_MS - age_ms)
    assert is_signed_v3(SECRET, "POST", URI, BODY, headers, NOW_MS) is accepted


GOOD = headers_for()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {SIGNATURE_HEADER: GOOD[SIGNATURE_HEADER]},
        {TIMESTAMP_HEADER: GOOD[TIMESTAMP_HEADER]},
        {**GOOD, TIMESTAMP_HEADER: ""},
        {**GOOD, TIMESTAMP_HEADER: "abc"},
        {**GOOD, TIMESTAMP_HEADER: "-1800000000000"},
        {**GOOD, TIMESTAMP_HEADER: " 1800000000000"},
        {**GOOD, TIMESTAMP_HEADER: "1800000000000.0"},
        {**GOOD, TIMESTAMP_HEADER: "9" * 400},
        {**GOOD, TIMESTAMP_HEADER: "١٨٠٠٠٠٠٠٠٠٠٠٠"},  # Arabic-Indic digits
        {**GOOD, TIMESTAMP_HEADER: None},
        {**GOOD, TIMESTAMP_HEADER: 1_800_000_000_000},
        {**GOOD, SIGNATURE_HEADER: ""},
        {**GOOD, SIGNATURE_HEADER: "sha256=" + GOOD[SIGNATURE_HEADER]},
        {**GOOD, SIGNATURE_HEADER: GOOD[SIGNATURE_HEADER] + "A"},
        {**GOOD, SIGNATURE_HEADER: "é" * 44},
        {**GOOD, SIGNATURE_HEADER: "\udcff" * 44},
        {**GOOD, SIGNATURE_HEADER: b"bytes"},
        {**GOOD, SIGNATURE_HEADER: "A" * 10_000},
    ],
)
def test_garbage_headers_are_refused_without_raising(headers: dict) -> None:
    assert not is_signed_v3(SECRET, "POST", URI, BODY, headers, NOW_MS)


def test_a_body_that_is_not_utf8_is_refused() -> None:
    body = b'[{"x":"\xff"}]'
    assert not is_signed_v3(SECRET, "POST", URI, body, headers_for(body=body), NOW_MS)


def test_hostile_method_or_uri_is_refused_without_raising() -> None:
    assert not is_signed_v3(SECRET, "POST", "https://x/\udcff", BODY, headers_for(), NOW_MS)
    assert not is_signed_v3(SECRET, None, URI, BODY, headers_for(), NOW_MS)  # type: ignore[arg-type]


@given(
    st.dictionaries(
        st.sampled_from([SIGNATURE_HEADER, TIMESTAMP_HEADER, "x-hubspot-signature-v3", "X"]),
        st.one_of(st.text(max_size=80), st.binary(max_size=20), st.integers(), st.none()),
    ),
    st.binary(max_size=64),
)
def test_no_header_or_body_makes_it_raise(headers: dict, body: bytes) -> None:
    assert is_signed_v3(SECRET, "POST", URI, body, headers, NOW_MS) in (True, False)


# --- parse_events -------------------------------------------------------------------------
def event(**changes: object) -> dict:
    base = {
        "eventId": 100,
        "subscriptionId": 25,
        "portalId": 62515,
        "appId": 54321,
        "occurredAt": 1_564_113_600_000,
        "subscriptionType": "deal.propertyChange",
        "attemptNumber": 0,
        "objectId": 1234,
        "propertyName": "dealstage",
        "propertyValue": "closedwon",
        "changeSource": "CRM_UI",
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not ...}


def one_sentence(text: object) -> bool:
    return (
        isinstance(text, str)
        and text.endswith(".")
        and "\n" not in text
        and ". " not in text.rstrip(".")
    )


def test_a_realistic_batch_of_three() -> None:
    body = json.loads(
        json.dumps(
            [
                event(
                    eventId=1,
                    subscriptionType="deal.creation",
                    propertyName=...,
                    propertyValue=...,
                    changeFlag="CREATED",
                ),
                event(eventId=2, attemptNumber=3),
                event(
                    eventId=3,
                    subscriptionType="contact.creation",
                    objectId=99,
                    propertyName=...,
                    propertyValue=...,
                ),
            ]
        )
    )
    events = parse_events(body)
    assert isinstance(events, list)
    assert [e.event_id for e in events] == [1, 2, 3]
    created, changed, contact = events
    assert created == DealEvent(
        event_id=1,
        portal_id=62515,
        object_id=1234,
        subscription_type="deal.creation",
        property_name=None,
        property_value=None,
        occurred_at=datetime(2019, 7, 26, 4, 0, tzinfo=UTC),
        attempt=0,
        app_id=54321,
        change_source="CRM_UI",
    )
    assert (changed.property_name, changed.property_value, changed.attempt) == (
        "dealstage",
        "closedwon",
        3,
    )
    assert created.is_deal and changed.is_deal and not contact.is_deal


def test_a_generic_deal_subscription_reads_as_a_deal_event() -> None:
    events = parse_events([event(subscriptionType="object.propertyChange", objectTypeId="0-3")])
    assert isinstance(events, list) and events[0].subscription_type == "deal.propertyChange"


def test_an_empty_batch_is_no_events() -> None:
    assert parse_events([]) == []


@pytest.mark.parametrize("body", [{}, "[]", None, 7, {"events": []}, b"[]"])
def test_a_body_that_is_not_an_array_is_refused(body: object) -> None:
    answer = parse_events(body)
    assert answer == "The webhook body is not a JSON array of events."


def test_more_than_100_events_are_refused() -> None:
    answer = parse_events([event(eventId=n) for n in range(1, MAX_EVENTS + 2)])
    assert answer == "The webhook body has 101 events; HubSpot sends at most 100."
    assert isinstance(parse_events([event(eventId=n) for n in range(1, MAX_EVENTS + 1)]), list)


@pytest.mark.parametrize(
    ("bad", "mentions"),
    [
        (event(eventId="100"), "eventId"),
        (event(eventId=True), "eventId"),
        (event(eventId=0), "eventId"),
        (event(eventId=-5), "eventId"),
        (event(eventId=2**63), "eventId"),
        (event(eventId=1.0), "eventId"),
        (event(eventId=...), "eventId"),
        (event(portalId=None), "portalId"),
        (event(objectId="1234"), "objectId"),
        (event(occurredAt=10**20), "occurredAt"),
        (event(attemptNumber=-1), "attemptNumber"),
        (event(subscriptionId=[1]), "subscriptionId"),
        (event(appId={"id": 1}), "appId"),
        (event(subscriptionType=5), "subscriptionType"),
        (event(subscriptionType="deal"), "subscriptionType"),
        (event(subscriptionType="x" * 500), "subscriptionType"),
        (event(propertyName=...), "propertyName"),
        (event(propertyName=7), "propertyName"),
        (event(propertyValue=1200), "propertyValue"),
        (event(propertyValue="x" * 70_000), "propertyValue"),
        (event(changeSource=["CRM"]), "changeSource"),
        ("not an event", "is not a JSON object"),
        ([event()], "is not a JSON object"),
    ],
)
def test_wrong_types_and_bounds_are_refused_in_one_sentence(bad: object, mentions: str) -> None:
    answer = parse_events([event(eventId=1), bad])
    assert isinstance(answer, str) and one_sentence(answer), answer
    assert answer.startswith("Event 2") and mentions in answer


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@given(st.lists(st.one_of(json_values, st.builds(event)), max_size=5) | json_values)
def test_any_json_parses_or_is_one_sentence(body: object) -> None:
    answer = parse_events(body)
    assert isinstance(answer, list) or one_sentence(answer)


# --- parse_workflow -----------------------------------------------------------------------
def test_a_workflow_with_all_properties() -> None:
    body = {
        "objectId": 1234,
        "objectType": "DEAL",
        "properties": {
            "dealname": {"value": "Acme", "timestamp": 1, "versions": [{"value": "Acme"}]},
            "amount": {"value": "1200.5", "timestamp": 1, "versions": []},
            "description": {"value": None, "timestamp": 1, "versions": []},
            "renewal_date": "2027-01-31",
        },
    }
    assert parse_workflow(body) == {
        "dealname": "Acme",
        "amount": "1200.5",
        "renewal_date": "2027-01-31",
        "hs_object_id": "1234",
    }


def test_a_workflow_with_chosen_properties() -> None:
    body = {"hs_object_id": "1234", "dealname": "Acme", "amount": 1200, "is_closed": True}
    assert parse_workflow(body) == {
        "hs_object_id": "1234",
        "dealname": "Acme",
        "amount": "1200",
        "is_closed": "true",
    }


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        None,
        {"dealname": "Acme"},
        {"hs_object_id": "0", "dealname": "Acme"},
        {"hs_object_id": str(2**63)},
        {"hs_object_id": "12a"},
        {"objectId": True, "properties": {}},
        {"objectId": 1, "properties": {"a": {"value": {"nested": 1}}}},
        {"hs_object_id": "1", "amount": float("nan")},
        {"hs_object_id": "1", "notes": ["a"]},
        {"hs_object_id": "1", "": "empty name"},
        {"hs_object_id": "1", "x" * 300: "long name"},
        {"hs_object_id": "1", "big": "x" * 70_000},
        {"hs_object_id": "1", **{f"p{n}": "v" for n in range(1_001)}},
    ],
)
def test_workflow_refusals_are_one_sentence(body: object) -> None:
    answer = parse_workflow(body)
    assert isinstance(answer, str) and one_sentence(answer), answer


@given(json_values)
def test_any_workflow_json_parses_or_is_one_sentence(body: object) -> None:
    answer = parse_workflow(body)
    assert isinstance(answer, dict) or one_sentence(answer)
