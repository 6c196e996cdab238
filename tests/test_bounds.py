"""The bounds every door reads values through (flows/bounds.py), and the nesting check
both HTTP doors apply before `json.loads` (bot/http_input.py): pure functions."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.platform.http_input import MAX_JSON_DEPTH, BadRequest, json_value, too_deep, well_formed
from flows import bounds
from flows.bounds import MAX_AMOUNT, MAX_DATE, MAX_ID, MIN_DATE
from flows.intake import parse_closed_won

DEAL = {
    "crm_id": "D-1",
    "account_name": "Acme",
    "ae_email": "ana@example.com",
    "csm_email": "chen@example.com",
}


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2027-01-31", date(2027, 1, 31)),
        (" 2027-01-31 ", date(2027, 1, 31)),
        ("0001-01-01", date(1, 1, 1)),  # a real day; bounded_day is what refuses it
        ("20270131", None),  # Python 3.11's fromisoformat reads it; Slack never sends it
        ("2027-W05-1", None),
        ("+002027-01-31", None),
        ("٢٠٢٧-٠١-٣١", None),
        ("2027-02-30", None),
        ("2027-1-31", None),
        (20270131, None),
        (None, None),
        ("", None),
    ],
)
def test_iso_day_reads_only_yyyy_mm_dd(text, day) -> None:
    assert bounds.iso_day(text) == day


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("1970-01-01", True),
        ("2199-12-31", True),
        ("1969-12-31", False),
        ("2200-01-01", False),
        ("0001-01-01", False),
        ("9999-12-31", False),
    ],
)
def test_bounded_day_keeps_the_range(text: str, ok: bool) -> None:
    assert (bounds.bounded_day(text) is not None) is ok


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (120000, Decimal("120000.00")),
        ("120000", Decimal("120000.00")),
        (" 99.5 ", Decimal("99.50")),
        (120000.5, Decimal("120000.50")),
        (0, Decimal("0.00")),
        ("999999999999.99", MAX_AMOUNT),
        (Decimal("0.005"), Decimal("0.00")),
        ("999999999999.995", None),  # rounds to 10^12: too big for Numeric(14, 2)
        (10**12, None),
        (1e20, None),
        (float("inf"), None),
        (float("nan"), None),
        ("NaN", None),
        ("Infinity", None),
        ("1e3", None),
        ("-1", None),
        (-0.01, None),
        ("١٢٣", None),
        ("1_000", None),
        ("", None),
        (True, None),
        (None, None),
        ({"amount": 1}, None),
    ],
)
def test_amount_fits_the_column(value, expected) -> None:
    assert bounds.amount(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        ("1", 1),
        (MAX_ID, MAX_ID),
        (str(MAX_ID), MAX_ID),
        (MAX_ID + 1, None),
        ("99999999999999999999", None),
        (0, None),
        ("-1", None),
        ("1e3", None),
        ("", None),
        ("²", None),
        ("١٢", None),
        ("1_0", None),
        (" 1", None),
        (True, None),
        (1.0, None),
        ({}, None),
        (None, None),
    ],
)
def test_record_id_is_a_positive_64_bit_integer(value, expected) -> None:
    assert bounds.record_id(value) == expected


def test_whole_reads_ascii_digits_only() -> None:
    assert bounds.whole(" 12 ", 1, 120) == 12
    assert bounds.whole(120, 1, 120) == 120
    for value in ("²", "١٢", "12.0", 12.0, 10**30, "0", 121, False):
        assert bounds.whole(value, 1, 120) is None, value


def test_storable_refuses_nul_and_lone_surrogates() -> None:
    assert bounds.storable("Société Générale ☃ 株式会社 🎉")
    for text in ("\x00", "a\x00b", "\ud800", "\udfff", "x\udc80"):
        assert not bounds.storable(text)
    assert bounds.unstorable_anywhere({"a": [{"b": "ok"}, {"c": "\x00"}]})
    assert bounds.unstorable_anywhere({"\ud800": 1})
    assert not bounds.unstorable_anywhere({"a": [1, 2.5, None, True, {"b": "ok"}]})


def test_too_long_names_each_field_over_the_limit() -> None:
    assert bounds.too_long({"a": "x" * 4, "b": "x" * 5, "c": None}, 4) == {
        "b": "Please keep this under 4 characters."
    }


@given(st.dates())
def test_a_day_is_accepted_exactly_when_it_is_in_range(day: date) -> None:
    assert (bounds.bounded_day(day.isoformat()) == day) is (MIN_DATE <= day <= MAX_DATE)


@given(st.one_of(st.text(), st.integers(), st.floats(), st.decimals(), st.none(), st.booleans()))
def test_an_amount_is_none_or_fits_numeric_14_2(value) -> None:
    number = bounds.amount(value)
    assert number is None or (
        0 <= number <= MAX_AMOUNT and number == number.quantize(Decimal("0.01"))
    )


@given(st.one_of(st.integers(), st.text()))
def test_an_id_is_none_or_fits_bigint(value) -> None:
    key = bounds.record_id(value)
    assert key is None or 1 <= key <= MAX_ID


@given(
    st.dates(min_value=MIN_DATE, max_value=MAX_DATE),
    st.integers(min_value=1, max_value=bounds.MAX_TERM_MONTHS),
)
def test_start_plus_term_is_in_range_or_refused(start: date, term: int) -> None:
    """No deal the webhook accepts can hold a date the tick can't compute with."""
    deal = parse_closed_won(
        {**DEAL, "contract_start": start.isoformat(), "term_months": term}, date(2027, 1, 4)
    )
    if isinstance(deal, list):
        assert [e.field for e in deal] == ["renewal_date"]
    else:
        assert MIN_DATE <= deal.contract_start < deal.renewal_date <= MAX_DATE
        assert deal.renewal_date - timedelta(days=366 * 10) >= date(1, 1, 1)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_nesting_is_bounded_before_json_loads() -> None:
    assert not too_deep(nested(MAX_JSON_DEPTH))
    assert too_deep(nested(MAX_JSON_DEPTH + 1))
    assert too_deep('{"a": ' * 100 + "1" + "}" * 100)
    # Brackets inside strings (escaped quotes included) are text, not nesting.
    assert not too_deep(json.dumps({"text": "[" * 10_000 + '\\"' + "{" * 10_000}))
    with pytest.raises(BadRequest) as refused:
        json_value(nested(10_000))
    assert refused.value.status == 400
    assert json_value(nested(MAX_JSON_DEPTH)) is not None


@given(st.integers(min_value=0, max_value=200))
def test_too_deep_agrees_with_the_nesting(depth: int) -> None:
    document = json.dumps(json.loads('{"k": ' * depth + "0" + "}" * depth))
    assert too_deep(document) is (depth > MAX_JSON_DEPTH)


@pytest.mark.parametrize(
    ("timestamp", "signature", "ok"),
    [
        ("1700000000", "v0=" + "0" * 64, True),
        ("abc", "v0=" + "0" * 64, False),
        ("1.5", "v0=" + "0" * 64, False),
        ("-1", "v0=" + "0" * 64, False),
        ("١٧٠٠٠٠٠٠٠٠", "v0=" + "0" * 64, False),
        ("9" * 5000, "v0=" + "0" * 64, False),
        ("", "v0=" + "0" * 64, False),
        ("1700000000", "v0=é", False),
        ("1700000000", "", False),
        (None, "v0=", False),
        ("1700000000", None, False),
    ],
)
def test_signature_headers_must_be_shaped_like_one(timestamp, signature, ok: bool) -> None:
    assert well_formed(timestamp, signature) is ok
