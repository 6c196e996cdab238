"""What Baton stores, bounded once: every parser at every door reads values through these.

- Dates lie in 1970-01-01 … 2199-12-31, so a start plus a term, a renewal cycle, and every
  milestone and instant computed from them stay real dates (Python's stop at year 1 and
  9999; `date(1, 1, 1) - timedelta(days=1)` is an OverflowError in the tick).
- Amounts fit `Numeric(14, 2)` on SQLite and PostgreSQL alike: 0 … 999,999,999,999.99.
- Ids fit the id columns on both databases: PostgreSQL's INTEGER is 32-bit (SQLite's is
  64-bit), so 1 … 2^31-1; anything else never reaches a query.
- Text holds no NUL (PostgreSQL refuses it in text) and no lone surrogate (it can't be
  encoded as UTF-8, so no database, JSON column or Slack message can carry it).

Whole numbers and dates are read as ASCII digits only: `str.isdigit()` is true for "²"
and `int()` reads "١٢" and "1_000".
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2199, 12, 31)
MAX_AMOUNT = Decimal("999999999999.99")
MAX_ID = 2**31 - 1  # PostgreSQL INTEGER (the id columns); SQLite's hold more
MAX_TERM_MONTHS = 120
CENT = Decimal("0.01")
DATE_RANGE = f"from {MIN_DATE.isoformat()} to {MAX_DATE.isoformat()}"

_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"[0-9]{1,19}")
_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{0,15})?|\.[0-9]{1,15}")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def in_range(day: date) -> bool:
    return MIN_DATE <= day <= MAX_DATE


def iso_day(value: Any) -> date | None:
    """A `YYYY-MM-DD` calendar day (the only form Slack's date pickers send), any year."""
    if not isinstance(value, str) or not _ISO_DAY.fullmatch(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:  # 2027-02-30
        return None


def bounded_day(value: Any) -> date | None:
    """A `YYYY-MM-DD` day within the range Baton stores, else None."""
    day = iso_day(value)
    return day if day is not None and in_range(day) else None


def whole(value: Any, low: int, high: int) -> int | None:
    """A whole number from `low` to `high`: an int, or a string of ASCII digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if not _WHOLE.fullmatch(text):
            return None
        value = int(text)
    if not isinstance(value, int):
        return None
    return value if low <= value <= high else None


def record_id(value: Any) -> int | None:
    """The id a button value or a modal's metadata carries: 1 … 2^31-1, written exactly
    as Baton writes it (no spaces), else None."""
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        return None
    return whole(value, 1, MAX_ID)


def amount(value: Any) -> Decimal | None:
    """A sum of money Baton can store (to the cent), from a JSON number or a plain decimal
    string such as "120000" or "99.5"; None for anything else (NaN, 1e400, negative)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    if isinstance(value, str):
        if not _DECIMAL.fullmatch(value.strip()):
            return None
        value = value.strip()
    try:
        number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    except (InvalidOperation, ValueError):
        return None
    if not number.is_finite() or not 0 <= number <= MAX_AMOUNT + 1:
        return None
    rounded = number.quantize(CENT)
    return rounded if rounded <= MAX_AMOUNT else None


def too_long(texts: dict[str, Any], limit: int) -> dict[str, str]:
    """Field → one sentence, for each text longer than `limit` (what its input allows)."""
    return {
        key: f"Please keep this under {limit} characters."
        for key, text in texts.items()
        if isinstance(text, str) and len(text) > limit
    }


def storable(text: str) -> bool:
    """False for text that carries a NUL or a lone surrogate."""
    return not _UNSTORABLE.search(text)


def unstorable_anywhere(value: Any, depth: int = 0) -> bool:
    """True if any string in a decoded JSON value (keys included) is not storable."""
    if isinstance(value, str):
        return not storable(value)
    if depth > 100:
        return True
    if isinstance(value, dict):
        return any(
            unstorable_anywhere(k, depth + 1) or unstorable_anywhere(v, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(unstorable_anywhere(item, depth + 1) for item in value)
    return False
