"""How a renewal cycle ends, and reading `/baton renewed <account> [date] [ARR]`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from flows.bounds import DATE_RANGE, MAX_AMOUNT, in_range, iso_day
from flows.dates import add_months

NOTE_MAX = 2000  # what the renewed and churned modals let people type


class ChurnReason(StrEnum):
    EXPECTATION_MISMATCH = "expectation_mismatch"
    PRODUCT_FIT = "product_fit"
    ECONOMIC = "economic"


CHURN_REASON_NAMES = {
    ChurnReason.EXPECTATION_MISMATCH: "Expectation mismatch",
    ChurnReason.PRODUCT_FIT: "Product fit",
    ChurnReason.ECONOMIC: "Economic",
}


def next_renewal_date(renewal_date: date, term_months: int) -> date:
    """The default date the next cycle ends: one more term (Feb 29 + 12 months → Feb 28)."""
    return add_months(renewal_date, max(1, term_months))


@dataclass(frozen=True)
class RenewedArgs:
    account: str
    new_date: date | None = None
    new_arr: Decimal | None = None


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_AMOUNT = re.compile(r"^\$?[0-9][0-9,_]{0,20}(\.[0-9]{1,2})?[kKmM]?$")


def parse_renewed(text: str) -> RenewedArgs | str:
    """The account, then optionally a date (YYYY-MM-DD) and an ARR, read from the end so
    that account names may have spaces. A problem comes back as one sentence."""
    words = text.split()
    new_date: date | None = None
    new_arr: Decimal | None = None
    while words and (new_date is None or new_arr is None):
        word = words[-1]
        if new_date is None and _DATE.match(word):
            new_date = iso_day(word)
            if new_date is None:
                return f"{word} is not a real date; write it as YYYY-MM-DD."
            if not in_range(new_date):
                return f"{word} is outside the dates Baton keeps ({DATE_RANGE})."
        elif new_arr is None and _AMOUNT.match(word) and len(words) > 1:
            new_arr = _amount(word)
            if new_arr is None:
                return f"{word} is not an ARR I can read; write it like 120000 or 120k."
        else:
            break
        words.pop()
    if not words:
        return "Which account? Try `/baton renewed Acme 2028-03-31 120000`."
    return RenewedArgs(" ".join(words), new_date, new_arr)


def _amount(word: str) -> Decimal | None:
    text = word.lstrip("$").replace(",", "").replace("_", "")
    scale = {"k": 1000, "m": 1_000_000}.get(text[-1].lower(), 1)
    text = text.rstrip("kKmM")
    try:
        amount = Decimal(text) * scale
    except InvalidOperation:
        return None
    return amount if 0 <= amount <= MAX_AMOUNT else None


def renewal_problems(current: date, new_date: date, today: date) -> str | None:
    """Why a new renewal date cannot be right, in one sentence; None if it can."""
    if new_date <= current:
        return f"The new renewal date must be after the current one ({current:%d %b %Y})."
    if new_date <= today:
        return "The new renewal date must be in the future."
    if new_date > add_months(current, 60):
        return "The new renewal date is more than five years out; check the year."
    return None
