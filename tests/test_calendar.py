from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from flows.calendar import is_working_day, next_business_time, next_working_day

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_weekend_waits_for_monday_morning_local() -> None:
    saturday_noon = utc(2027, 1, 2, 12)
    assert next_business_time(saturday_noon, NEW_YORK) == utc(2027, 1, 4, 14)
    assert next_business_time(saturday_noon, LONDON) == utc(2027, 1, 4, 9)


def test_before_nine_is_same_day_and_after_nine_is_next_working_day() -> None:
    assert next_business_time(utc(2027, 1, 5, 8, 59), LONDON) == utc(2027, 1, 5, 9)
    assert next_business_time(utc(2027, 1, 5, 9, 0), LONDON) == utc(2027, 1, 5, 9)
    assert next_business_time(utc(2027, 1, 5, 9, 1), LONDON) == utc(2027, 1, 6, 9)
    # Friday after nine rolls over the weekend.
    assert next_business_time(utc(2027, 1, 8, 10), LONDON) == utc(2027, 1, 11, 9)


def test_local_date_not_utc_date_decides_the_day() -> None:
    # 03:00 UTC Tuesday is still Monday 22:00 in New York: next is Tuesday 09:00 local.
    assert next_business_time(utc(2027, 1, 5, 3), NEW_YORK) == utc(2027, 1, 5, 14)


def test_dst_changes_the_utc_instant_not_the_local_hour() -> None:
    # US clocks spring forward on Sunday 14 March 2027.
    assert next_business_time(utc(2027, 3, 12, 15), NEW_YORK) == utc(2027, 3, 15, 13)
    assert next_business_time(utc(2027, 3, 11, 12), NEW_YORK) == utc(2027, 3, 11, 14)


def test_holidays_are_skipped() -> None:
    new_year = date(2027, 1, 1)
    assert not is_working_day(new_year, {new_year})
    assert next_working_day(new_year, {new_year}) == date(2027, 1, 4)
    assert next_business_time(utc(2026, 12, 31, 12), LONDON, holidays={new_year}) == utc(
        2027, 1, 4, 9
    )


def test_custom_hour_and_naive_input() -> None:
    assert next_business_time(utc(2027, 1, 4, 0), LONDON, at=time(8)) == utc(2027, 1, 4, 8)
    with pytest.raises(ValueError):
        next_business_time(datetime(2027, 1, 4), LONDON)
