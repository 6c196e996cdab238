"""Reading the ownership subcommands' arguments: people, roles, dates, day counts.

Slack escapes what was picked from its autocomplete (the manifest sets should_escape):
a person arrives as `<@U0123|chen>`, a channel as `<#C0123|acct-acme>`. Every problem
comes back as one sentence that says how to write it instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from flows.bounds import DATE_RANGE, in_range, whole

# A user id fits the 32-character columns it is stored in.
USER_MENTION = re.compile(r"^<@([UW][A-Z0-9]{1,31})(?:\|[^>]*)?>$")
BARE_USER_ID = re.compile(r"^[UW][A-Z0-9]{6,31}$")
ROLES = ("ae", "csm", "am", "ops")
MAX_COVER_DAYS = 366
DEFAULT_RENEWAL_DAYS = 90
MAX_RENEWAL_DAYS = 730
_FORMATS = (
    "%Y-%m-%d",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y",
    "%B %d %Y",
    "%d %b",
    "%d %B",
    "%b %d",
    "%B %d",
)


def mentioned_user(word: str) -> str | None:
    """The user id of `<@U…>` (or a bare user id), else None."""
    found = USER_MENTION.match(word.strip())
    if found:
        return found.group(1)
    return word if BARE_USER_ID.match(word) else None


def parse_day(text: str, today: date, *, past: bool = False) -> date | None:
    """YYYY-MM-DD, `3 Mar 2027`, `Mar 3`…; a day without a year is the next one to come
    (`past`: the last one gone)."""
    cleaned = " ".join(text.replace(",", " ").split())
    for fmt in _FORMATS:
        yearless = "%Y" not in fmt
        try:  # a year-less day is read in a leap year, so that 29 Feb is a day
            parsed = datetime.strptime(  # noqa: DTZ007 (a calendar day)
                f"{cleaned} 2000" if yearless else cleaned, f"{fmt} %Y" if yearless else fmt
            ).date()
        except ValueError:
            continue
        if yearless:
            parsed = _occurrence(parsed.month, parsed.day, today, past)
        return parsed
    return None


def _occurrence(month: int, day: int, today: date, past: bool) -> date:
    step = -1 if past else 1
    year = today.year
    while True:
        try:
            candidate = date(year, month, day)
        except ValueError:  # 29 Feb outside a leap year
            year += step
            continue
        if (candidate <= today) if past else (candidate >= today):
            return candidate
        year += step


@dataclass(frozen=True)
class Cover:
    user: str
    backup: str
    until: date


@dataclass(frozen=True)
class EndCover:
    user: str


COVER_USAGE = "`/baton cover @person with @backup until 2027-01-15` (or `/baton cover @person off`)"


def parse_cover(text: str, today: date) -> Cover | EndCover | str:
    words = text.split()
    if not words:
        return f"Who is away? Try {COVER_USAGE}."
    user = mentioned_user(words[0])
    if user is None:
        return f"Start with the person who is away, as an @mention: {COVER_USAGE}."
    rest = words[1:]
    if [w.lower() for w in rest] in (["off"], ["end"], ["stop"]):
        return EndCover(user)
    if len(rest) < 4 or rest[0].lower() != "with" or rest[2].lower() != "until":
        return f"I read that as: {COVER_USAGE}."
    backup = mentioned_user(rest[1])
    if backup is None:
        return f"Name the backup as an @mention: {COVER_USAGE}."
    if backup == user:
        return "Someone cannot cover for themselves; name a different backup."
    until = parse_day(" ".join(rest[3:]), today)
    if until is None:
        return f"“{' '.join(rest[3:])[:40]}” is not a date I can read; write it as YYYY-MM-DD."
    if not in_range(until):
        return _outside(until)
    if until < today:
        return f"{until:%d %b %Y} has already passed; coverage needs a day from today on."
    if (until - today).days > MAX_COVER_DAYS:
        return "Coverage runs for a year at most; for longer, reassign the accounts instead."
    return Cover(user, backup, until)


@dataclass(frozen=True)
class Assign:
    account: str
    role: str
    user: str


ASSIGN_USAGE = "`/baton assign <account> ae|csm|am|ops @person`"


def parse_assign(text: str) -> Assign | str:
    words = text.split()
    if len(words) < 3:
        return f"I need an account, a role and a person: {ASSIGN_USAGE}."
    user = mentioned_user(words[-1])
    if user is None:
        return f"End with the new owner as an @mention: {ASSIGN_USAGE}."
    role = words[-2].lower()
    if role not in ROLES:
        return f"“{words[-2][:20]}” is not a role; use ae, csm, am or ops: {ASSIGN_USAGE}."
    return Assign(" ".join(words[:-2]), role, user)


@dataclass(frozen=True)
class HistoryArgs:
    account: str
    on: date | None


def parse_history(text: str, today: date) -> HistoryArgs | str:
    """`<account>` or `<account> on <date>` (a trailing YYYY-MM-DD also works)."""
    words = text.split()
    lowered = [w.lower() for w in words]
    if "on" in lowered[1:]:
        cut = len(lowered) - 1 - lowered[::-1].index("on")
        day = parse_day(" ".join(words[cut + 1 :]), today, past=True)
        if day is None:
            return "Write the day as YYYY-MM-DD, e.g. `/baton history acme on 2027-03-03`."
        if not in_range(day):
            return _outside(day)
        return HistoryArgs(" ".join(words[:cut]), day)
    if len(words) > 1:
        day = parse_day(words[-1], today) if re.match(r"^[0-9]{4}-", words[-1]) else None
        if day is not None and not in_range(day):
            return _outside(day)
        if day is not None:
            return HistoryArgs(" ".join(words[:-1]), day)
        if re.match(r"^[0-9]{4}-", words[-1]):
            return f"{words[-1][:20]} is not a real date; write it as YYYY-MM-DD."
    return HistoryArgs(text.strip(), None)


def parse_days(text: str) -> int | str:
    word = text.strip().lower().removesuffix("d").removesuffix(" days").strip()
    if not word:
        return DEFAULT_RENEWAL_DAYS
    days = whole(word, 1, MAX_RENEWAL_DAYS)
    if days is None:
        return f"Give the window as a number of days from 1 to {MAX_RENEWAL_DAYS}, e.g. `/baton renewals 60`."
    return days


def _outside(day: date) -> str:
    return f"{day.isoformat()} is outside the dates Baton keeps ({DATE_RANGE}); check the year."
