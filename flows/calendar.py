"""Working days and local business hours. Pure functions: the current time is a parameter."""

from __future__ import annotations

from collections.abc import Container
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BUSINESS_MORNING = time(9, 0)
WEEKEND = frozenset({5, 6})  # Saturday, Sunday


def is_working_day(day: date, holidays: Container[date] = ()) -> bool:
    return day.weekday() not in WEEKEND and day not in holidays


def next_working_day(day: date, holidays: Container[date] = ()) -> date:
    """`day` itself if it is a working day, otherwise the next one."""
    while not is_working_day(day, holidays):
        day += timedelta(days=1)
    return day


def local_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of wall-clock `at` on `day` in `tz`.

    A wall time skipped by a DST jump resolves to the same offset as before the jump
    (fold=0), i.e. slightly later in real time, never earlier.
    """
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_business_time(
    after: datetime,
    tz: ZoneInfo,
    at: time = BUSINESS_MORNING,
    holidays: Container[date] = (),
) -> datetime:
    """The first instant at or after `after` that is `at` local time on a working day."""
    if after.tzinfo is None:
        raise ValueError("`after` must be an aware datetime")
    day = after.astimezone(tz).date()
    while True:
        day = next_working_day(day, holidays)
        candidate = local_instant(day, at, tz)
        if candidate >= after:
            return candidate
        day += timedelta(days=1)


BUSINESS_EVENING = time(17, 0)


def in_business_hours(instant: datetime, tz: ZoneInfo, holidays: Container[date] = ()) -> bool:
    """09:00–17:00 local on a working day."""
    local = instant.astimezone(tz)
    return (
        is_working_day(local.date(), holidays)
        and BUSINESS_MORNING <= local.time() < BUSINESS_EVENING
    )


def next_business_hour(after: datetime, tz: ZoneInfo, holidays: Container[date] = ()) -> datetime:
    """`after` itself inside business hours; otherwise the next business morning."""
    if in_business_hours(after, tz, holidays):
        return after
    return next_business_time(after, tz, holidays=holidays)
