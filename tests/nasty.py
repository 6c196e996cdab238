"""Hostile values, shared by the property tests (as hypothesis strategies) and the
hostile-input run (`tests/hostile_run.py`, drawn from a seeded generator).

Bounds that Baton promises at the door: a date a person or the CRM gives is within
1970-01-01…2199-12-31, and an amount fits the Numeric(14, 2) columns it is stored in.
"""

from __future__ import annotations

import string
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)
MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2): 12 digits before the point

# Text a person (or a CRM) may send, aimed at the places parsers go wrong.
NASTY_STRINGS: tuple[str, ...] = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",  # a lone surrogate: not encodable as UTF-8
    "x\udfffy",
    "\u202eevil\u202c",  # right-to-left override
    "\u200f\u200e",  # RTL / LTR marks
    "\ufeff",
    "\u2028\u2029",
    "\n\r\t\x0b\x0c\x1c\x1d\x1e\x1f\x85",
    "²",
    "³³",
    "١٢٣",  # Arabic-Indic digits
    "７",  # a fullwidth digit
    "9" * 5000,
    "-1",
    "0",
    "-0",
    "1e400",
    "-1e400",
    "1E+9999",
    "NaN",
    "sNaN",
    "Infinity",
    "-inf",
    "0.001",
    "1_000",
    "0x10",
    "99999999999999999999",
    str(2**63),
    str(2**31),
    str(-(2**63) - 1),
    "0001-01-01",
    "9999-12-31",
    "1969-12-31",
    "2200-01-01",
    "2027-02-29",
    "2028-02-29",
    "2027-13-01",
    "2027-1-1",
    "31 Dec 9999",
    "1 Jan 0001",
    "Feb 29",
    "<@U0OTHER1>",
    "<@U0OTHER1|someone>",
    "<@W0000000>",
    "<#C0000000|general>",
    "<!channel>",
    "<!here>",
    "<!subteam^S0123|@admins>",
    "&amp;lt;",
    "&lt;@U0OTHER1&gt;",
    "<https://evil.test|click>",
    "*bold* _it_ ~s~ `c`",
    "' OR 1=1 --",
    "%_%",
    "\\",
    "{}",
    "[]",
    "null",
    "true",
    "Ω" * 300,
    "🏳️‍🌈" * 50,
    "x" * 10_000,
)

IDS: tuple[Any, ...] = (
    0,
    -1,
    1,
    2**31,
    2**63,
    2**64,
    -(2**63) - 1,
    10**30,
    1.5,
    float("inf"),
    float("-inf"),
    float("nan"),
    1e308,
    True,
    None,
    "",
    "1",
    " 1 ",
    "١",
    "1.0",
    "1e3",
    "inf",
    "nan",
    "9" * 5000,
    [],
    {},
    [1],
    {"id": 1},
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Any JSON value (Python's json module also reads NaN and Infinity), with nasty
    strings and numbers among the leaves."""
    leaves = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(min_value=-(2**80), max_value=2**80),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(),
        st.sampled_from(NASTY_STRINGS),
    )
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """A line a person could type or a CRM could send: random Unicode, nasties, and words
    joined from both (including Slack's own mention tokens)."""
    word = st.one_of(
        st.text(max_size=12),
        st.text(alphabet=string.ascii_letters + string.digits + "-_:.,$", max_size=12),
        st.sampled_from(NASTY_STRINGS),
    )
    joined = st.lists(word, max_size=6).map(" ".join)
    return st.one_of(st.text(max_size=max_size), st.sampled_from(NASTY_STRINGS), joined)


def days() -> st.SearchStrategy[date]:
    return st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31))


def realistic_today() -> st.SearchStrategy[date]:
    """`today` as Baton's clock gives it: a real day, not the end of time."""
    return st.dates(min_value=date(2000, 1, 1), max_value=date(2150, 12, 31))


def in_bounds(day: date) -> bool:
    return EARLIEST <= day <= LATEST


def fits_numeric_14_2(amount: Decimal) -> bool:
    return (
        amount.is_finite()
        and 0 <= amount <= MAX_AMOUNT
        and amount == amount.quantize(Decimal("0.01"))
    )


def one_sentence(text: str) -> bool:
    """A user-facing error: one line, ending with a full stop (or a question mark)."""
    return bool(text) and "\n" not in text and "\r" not in text and text.rstrip()[-1:] in (".", "?")


def storable(text: str) -> bool:
    """Text every supported database stores as given: no NUL (PostgreSQL refuses it) and
    no lone surrogate (not UTF-8)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
