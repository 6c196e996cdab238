"""CRM values as CRMs write them, made into what `flows.intake.parse_closed_won` reads.

Amounts come as "$1,200.50", "EUR 1.200,50" or "1200.5"; dates as "2027-01-31",
"2027-01-31T00:00:00.000Z", HubSpot's midnight-UTC milliseconds, or a spreadsheet's
"01/31/2027". A value that cannot be read is passed on as it came, so the intake's own
check names the field and says what it must be: nothing here guesses past what is clear.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

MAX_TEXT = 32_768  # a CRM field longer than this is refused before any parsing
_CODE = re.compile(r"^\s*([A-Z]{3})\s*(.*?)\s*$|^\s*(.*?)\s*([A-Z]{3})\s*$")
_SYMBOLS = "$€£¥₹₩₽₺₪₫₴₦฿"
_GROUPED = re.compile(r"^[0-9]{1,3}(?:[ ,.' \u00a0\u202f][0-9]{3})+$")
_PLAIN = re.compile(r"^[0-9]+$")
_EPOCH_MS = re.compile(r"^[0-9]{10,14}$")
_ISO_DAY = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_ISO_START = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})[T ][0-9]{2}:[0-9]{2}")
_SLASHED = re.compile(r"^([0-9]{1,2})[/.]([0-9]{1,2})[/.]([0-9]{4})$")


def amount_text(value: object) -> tuple[object, str | None]:
    """(the amount as a plain decimal string, the currency code it carried) — or the value
    as it came, when it is not clearly an amount."""
    if not isinstance(value, str) or len(value) > 64:
        return value, None
    text, code = value.strip(), None
    found = _CODE.match(text)
    if found and (found.group(1) or found.group(4)):
        code = found.group(1) or found.group(4)
        text = found.group(2) if found.group(1) else found.group(3)
    text = text.strip().strip(_SYMBOLS).strip()
    number = _plain_number(text)
    return (number, code) if number is not None else (value, None)


def _plain_number(text: str) -> str | None:
    """ "1,200.50", "1.200,50", "1 200,5", "1200" → "1200.50", "1200.50", "1200.5", "1200"."""
    if not text:
        return None
    whole, point, fraction = _split_decimal(text)
    if fraction is not None and not _PLAIN.match(fraction):
        return None
    if _GROUPED.match(whole):
        whole = re.sub(r"[^0-9]", "", whole)
    if not _PLAIN.match(whole):
        return None
    return whole + (point + fraction if fraction is not None else "")


def _split_decimal(text: str) -> tuple[str, str, str | None]:
    """The whole part and the fraction, telling a decimal comma or point from a thousands
    separator. The last of "," or "." is the decimal mark, except where it can only be
    grouping: one kind of mark, three digits after it, and either a comma ("1,200") or the
    mark more than once ("1.200.000"). A lone point is a decimal point ("1.200" is 1.2),
    as CRMs' APIs write amounts."""
    last = max(text.rfind(","), text.rfind("."))
    if last < 0:
        return text, "", None
    mark, tail = text[last], text[last + 1 :]
    other = "." if mark == "," else ","
    grouping_only = mark == "," or text.count(mark) > 1
    if other not in text and grouping_only and len(tail) == 3 and _GROUPED.match(text):
        return text, "", None
    return text[:last], ".", tail


def day_text(value: object, *, day_first: bool = False) -> object:
    """The day as "YYYY-MM-DD" — or the value as it came, when it is not clearly a day.
    A time of day is dropped (a close date is a day); a slashed date is month first
    unless `day_first` (the mapping says which its spreadsheets use)."""
    text = _short_text(value)
    if text is None:
        return value
    if _EPOCH_MS.match(text):
        moment = _from_ms(int(text))
        return moment.date().isoformat() if moment else value
    found = _ISO_DAY.match(text) or _ISO_START.match(text)
    if found:
        return _day(int(found.group(1)), int(found.group(2)), int(found.group(3))) or value
    found = _SLASHED.match(text)
    if found:
        first, second, year = (int(part) for part in found.groups())
        month, day_ = (second, first) if day_first else (first, second)
        return _day(year, month, day_) or value
    return value


def instant_text(value: object) -> object:
    """A moment as ISO 8601 UTC — from ISO text or milliseconds since 1970 — or the value
    as it came."""
    text = _short_text(value)
    if text is None:
        return value
    if _EPOCH_MS.match(text):
        moment = _from_ms(int(text))
        return moment.isoformat().replace("+00:00", "Z") if moment else value
    return text


def flag_text(value: object) -> str | None:
    """A CRM boolean as "true"/"false" (Salesforce writes true, HubSpot "true", exports TRUE)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0", "yes", "no"):
        return "true" if value.strip().lower() in ("true", "1", "yes") else "false"
    return None


def _short_text(value: object) -> str | None:
    """A number or short text as stripped text (None: anything else, left as it came)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or len(value) > 64:
        return None
    return value.strip()


def _from_ms(ms: int) -> datetime | None:
    try:
        return datetime.fromtimestamp(ms / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _day(year: int, month: int, day_: int) -> str | None:
    try:
        return date(year, month, day_).isoformat()
    except ValueError:
        return None
