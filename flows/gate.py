"""The packet gate's clock: when the AE is reminded, and when the manager is told."""

from __future__ import annotations

from collections.abc import Container
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flows.calendar import BUSINESS_MORNING, local_instant, next_business_time, next_working_day
from flows.handoff import KICKOFF_DEADLINE_DAY

ESCALATE_AFTER_BUSINESS_DAYS = 2


def next_reminder(
    closed_at: datetime, now: datetime, tz: ZoneInfo, holidays: Container[date] = ()
) -> datetime:
    """The next 09:00 local business morning after the close, at or after `now`.

    The close itself asks for the packet, so the first reminder is the next business
    morning after it. Missed mornings (downtime) are not caught up: the next one counts.
    """
    after_close = next_business_time(closed_at + timedelta(seconds=1), tz, holidays=holidays)
    return max(after_close, next_business_time(now, tz, holidays=holidays))


def escalation_time(closed_at: datetime, tz: ZoneInfo, holidays: Container[date] = ()) -> datetime:
    """09:00 local on the morning after two full business days have passed since the close."""
    day = closed_at.astimezone(tz).date()
    for _ in range(ESCALATE_AFTER_BUSINESS_DAYS + 1):
        day = next_working_day(day + timedelta(days=1), holidays)
    return local_instant(day, BUSINESS_MORNING, tz)


def kickoff_deadline(closed_at: datetime, tz: ZoneInfo, holidays: Container[date] = ()) -> datetime:
    """09:00 local on day 7 after the close (or the next working day)."""
    day = closed_at.astimezone(tz).date() + timedelta(days=KICKOFF_DEADLINE_DAY)
    return local_instant(next_working_day(day, holidays), BUSINESS_MORNING, tz)


def business_days_between(
    start: datetime, end: datetime, tz: ZoneInfo, holidays: Container[date] = ()
) -> int:
    """Whole working days from `start` to `end`, counted on local dates (for reports)."""
    day, last, count = start.astimezone(tz).date(), end.astimezone(tz).date(), 0
    while day < last:
        day += timedelta(days=1)
        if day == next_working_day(day, holidays):
            count += 1
    return count
