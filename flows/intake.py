"""A closed-won deal as the CRM sends it: validated field by field, never half-accepted."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

from flows import bounds
from flows.bounds import DATE_RANGE, MAX_AMOUNT, MAX_TERM_MONTHS
from flows.dates import add_months

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
DEFAULT_TERM_MONTHS = 12
# The column sizes of storage.models.Account.
NAME_MAX = 200
CRM_ID_MAX = 64
EMAIL_MAX = 320
URL_MAX = 2000
SEGMENT_MAX = 64


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@dataclass(frozen=True)
class ClosedWon:
    crm_id: str
    account_name: str
    arr: Decimal
    contract_start: date
    renewal_date: date
    term_months: int
    ae_email: str
    csm_email: str
    am_email: str | None = None
    ops_email: str | None = None
    manager_email: str | None = None
    champion_email: str | None = None
    crm_url: str | None = None
    segment: str | None = None
    currency: str = "USD"
    updated_at: datetime | None = None  # when the CRM changed the deal, if it says

    def emails(self) -> dict[str, str]:
        """Role → email for everyone Baton should find in Slack."""
        pairs = {
            "ae": self.ae_email,
            "csm": self.csm_email,
            "am": self.am_email,
            "ops": self.ops_email,
            "manager": self.manager_email,
        }
        return {role: email for role, email in pairs.items() if email}


@dataclass
class _Reader:
    body: dict[str, Any]
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, name: str, message: str) -> None:
        self.errors.append(FieldError(name, message))

    def text(self, name: str, *, required: bool = False, limit: int = 255) -> str | None:
        value = self.body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(name, "is required.")
            return None
        if not isinstance(value, str | int) or isinstance(value, bool):
            self.fail(name, "must be a string.")
            return None
        text = str(value).strip()
        if not bounds.storable(text):
            self.fail(name, "must not contain NUL characters or unpaired surrogates.")
            return None
        if len(text) > limit:
            self.fail(name, f"must be at most {limit} characters.")
            return None
        return text

    def email(self, name: str, *, required: bool = False) -> str | None:
        value = self.text(name, required=required, limit=EMAIL_MAX)
        if value is not None and not EMAIL.match(value):
            self.fail(name, "must be an email address such as ana@example.com.")
            return None
        return value.lower() if value else None

    def day(self, name: str) -> date | None:
        value = self.body.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        day = bounds.iso_day(value)
        if day is None:
            self.fail(name, "must be an ISO date such as 2027-01-31.")
        elif not bounds.in_range(day):
            self.fail(name, f"must be a date {DATE_RANGE}.")
            return None
        return day

    def instant(self, name: str) -> datetime | None:
        value = self.text(name, limit=40)
        if value is None:
            return None
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.fail(name, "must be an ISO 8601 date and time such as 2027-01-31T09:30:00Z.")
            return None
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        if not bounds.in_range(moment.date()):
            self.fail(name, f"must be a time {DATE_RANGE}.")
            return None
        return moment

    def amount(self, name: str) -> Decimal | None:
        value = self.body.get(name)
        if value is None:
            return None
        number = bounds.amount(value)
        if number is None:
            self.fail(name, f"must be a number from 0 to {MAX_AMOUNT}.")
        return number

    def months(self, name: str) -> int | None:
        value = self.body.get(name)
        if value is None:
            return None
        months = bounds.whole(value, 1, MAX_TERM_MONTHS)
        if months is None:
            self.fail(name, f"must be a whole number of months from 1 to {MAX_TERM_MONTHS}.")
        return months


def parse_closed_won(body: Any, today: date) -> ClosedWon | list[FieldError]:
    """The deal, or every problem with it (all at once, so the sender fixes them in one go)."""
    if not isinstance(body, dict):
        return [FieldError("body", "must be a JSON object.")]
    read = _Reader(body)
    crm_id = read.text("crm_id", required=True, limit=CRM_ID_MAX)
    name = read.text("account_name", required=True, limit=NAME_MAX)
    arr = read.amount("arr")
    start = read.day("contract_start")
    renewal = read.day("renewal_date")
    term = read.months("term_months")
    ae = read.email("ae_email", required=True)
    csm = read.email("csm_email", required=True)
    am = read.email("am_email")
    ops = read.email("ops_email")
    manager = read.email("manager_email")
    champion = read.email("champion_email")
    crm_url = read.text("crm_url", limit=URL_MAX)
    if crm_url and (
        urlparse(crm_url).scheme not in ("http", "https") or not urlparse(crm_url).netloc
    ):
        read.fail("crm_url", "must be an http(s) link.")
    segment = read.text("segment", limit=SEGMENT_MAX)
    updated_at = read.instant("updated_at")
    currency = (read.text("currency", limit=3) or "USD").upper()
    if not CURRENCY.match(currency):
        read.fail("currency", "must be a three-letter ISO code such as USD.")
    if ae and csm and ae == csm:
        read.fail("csm_email", "must be a different person from the AE.")
    _check_dates(read, start or today, renewal, term or DEFAULT_TERM_MONTHS)
    if read.errors:
        return read.errors
    assert crm_id and name and ae and csm
    start, term = start or today, term or DEFAULT_TERM_MONTHS
    return ClosedWon(
        crm_id=crm_id,
        account_name=name,
        arr=arr or Decimal("0.00"),
        contract_start=start,
        renewal_date=renewal or add_months(start, term),
        term_months=term,
        ae_email=ae,
        csm_email=csm,
        am_email=am,
        ops_email=ops,
        manager_email=manager,
        champion_email=champion,
        crm_url=crm_url,
        segment=segment,
        currency=currency,
        updated_at=updated_at,
    )


def _check_dates(read: _Reader, start: date, renewal: date | None, term: int) -> None:
    """The renewal (given, or start + term) is a date Baton keeps, after the start."""
    if any(e.field in ("contract_start", "renewal_date") for e in read.errors):
        return  # already said what is wrong with them
    if renewal is None:
        renewal = add_months(start, term)
        if not bounds.in_range(renewal):
            read.fail(
                "renewal_date",
                f"(contract_start plus term_months, {renewal.isoformat()}) must be a date "
                f"{DATE_RANGE}.",
            )
            return
    if renewal <= start:
        read.fail("renewal_date", "must be after contract_start.")
