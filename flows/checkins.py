"""Weekly check-ins in the handoff window: when the CSM is prompted, who is copied, and what
a check-in must say."""

from __future__ import annotations

from collections import Counter
from collections.abc import Container, Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from flows.bounds import DATE_RANGE, bounded_day
from flows.calendar import BUSINESS_MORNING, local_instant, next_working_day

AE_COPIED_CHECKINS = 4  # the AE sees the first four, then steps back
PROMPT_WEEKS = 6  # weekly prompts through day 30 and a little beyond; /baton checkin any time
PRIMARY_DAY = 30
RATING_WINDOW = 10
RATING_ALERT_BELOW = 3.5
RATING_MINIMUM = 3  # fewer ratings than this say nothing yet
TEXT_MAX = 3000


class Sentiment(StrEnum):
    POSITIVE = "positive"
    NEUTRAL = "neutral"
    CONCERNED = "concerned"

    @property
    def label(self) -> str:
        return {"positive": "Positive", "neutral": "Neutral", "concerned": "Concerned"}[self.value]

    @property
    def emoji(self) -> str:
        return {
            "positive": ":large_green_circle:",
            "neutral": ":white_circle:",
            "concerned": ":red_circle:",
        }[self.value]


def ae_copies_left(closed_on: date, known_on: date) -> int:
    """How many of the AE's four copied check-ins are still ahead of an account Baton first
    knew of on `known_on`: each week since the close that went by outside Baton counts as a
    check-in had (imported at week 2: the next two; at month 7: none). A deal Baton took
    in at its close has all four."""
    weeks_gone = max(0, (known_on - closed_on).days) // 7
    return max(0, AE_COPIED_CHECKINS - weeks_gone)


def ae_is_copied(number: int, closed_on: date, known_on: date) -> bool:
    """Whether Baton's check-in `number` (counted from 1) copies the AE: the first four after
    the close do, less the weeks that went by before Baton knew of the account."""
    return 1 <= number <= ae_copies_left(closed_on, known_on)


def passed_before_known(day: date, known_on: date) -> bool:
    """A step whose day had passed before Baton knew of the account is skipped, not sent late
    (as the renewal planner skips such a milestone)."""
    return day < known_on


def packet_collected(completed_at: datetime | None, known_at: datetime) -> bool:
    """Whether the handoff packet is (or will be) one Baton collected: not when it was complete
    before Baton knew of the account (an account imported after its handoff)."""
    return completed_at is None or completed_at >= known_at


def prompt_time(
    anchor: datetime, week: int, tz: ZoneInfo, holidays: Container[date] = ()
) -> datetime:
    """09:00 local on the working day on or after `week` weeks from the anchor's local date."""
    day = anchor.astimezone(tz).date() + timedelta(weeks=week)
    return local_instant(next_working_day(day, holidays), BUSINESS_MORNING, tz)


def primary_time(closed_at: datetime, tz: ZoneInfo, holidays: Container[date] = ()) -> datetime:
    """Day 30: 09:00 local on the first working day on or after it."""
    day = closed_at.astimezone(tz).date() + timedelta(days=PRIMARY_DAY)
    return local_instant(next_working_day(day, holidays), BUSINESS_MORNING, tz)


def problems(values: dict[str, Any], today: date) -> dict[str, str]:
    """Field → what is wrong with a check-in as submitted."""
    found: dict[str, str] = {}
    when = bounded_day(values.get("checkin_date"))
    if not values.get("checkin_date"):
        found["checkin_date"] = "Pick the date of the check-in."
    elif when is None:
        found["checkin_date"] = f"Pick a date {DATE_RANGE}."
    elif when > today + timedelta(days=1):
        found["checkin_date"] = "A check-in can't be in the future."
    if not (values.get("summary") or "").strip():
        found["summary"] = "Say in a line or two how it went."
    if values.get("sentiment") not in {s.value for s in Sentiment}:
        found["sentiment"] = "How does the customer feel: positive, neutral or concerned?"
    if values.get("mismatch") and not (values.get("promised") or "").strip():
        found["promised"] = (
            "Write what the customer believes they were promised, so the AE can answer."
        )
    for key in ("summary", "promised", "next_steps"):
        if len(values.get(key) or "") > TEXT_MAX:
            found[key] = f"Please keep this under {TEXT_MAX} characters."
    return found


def rating_alert(ratings: Sequence[int]) -> float | None:
    """The average of the latest ratings (newest last) if it calls for telling managers."""
    window = list(ratings)[-RATING_WINDOW:]
    if len(window) < RATING_MINIMUM:
        return None
    average = sum(window) / len(window)
    return average if average < RATING_ALERT_BELOW else None


def most_missing(missing: Iterable[Iterable[str]], top: int = 3) -> list[tuple[str, int]]:
    counts = Counter(field for fields in missing for field in fields)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
