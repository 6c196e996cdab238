"""Pure rules of the renewal's end game: outcomes, the health flag, catching up, hours."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import holidays
import pytest

from flows.calendar import in_business_hours, local_instant, next_business_hour
from flows.health import at_risk_days, flag_problems
from flows.outcomes import RenewedArgs, next_renewal_date, parse_renewed, renewal_problems
from flows.playbook import load_playbook
from flows.renewal import OverdueMilestone, catch_up, milestone_day, phase_two_end, plan_cycle

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("acme", RenewedArgs("acme")),
        ("Acme Robotics 2028-03-31", RenewedArgs("Acme Robotics", date(2028, 3, 31))),
        ("acme 2028-03-31 120k", RenewedArgs("acme", date(2028, 3, 31), Decimal(120000))),
        ("acme 120,000 2028-03-31", RenewedArgs("acme", date(2028, 3, 31), Decimal(120000))),
        ("acme $1.5m", RenewedArgs("acme", None, Decimal("1500000"))),
        ("3M", RenewedArgs("3M")),  # a name that looks like an amount stays a name
        ("<#C123|acct-acme>", RenewedArgs("<#C123|acct-acme>")),
    ],
)
def test_renewed_arguments_are_read_from_the_end(text: str, parsed: RenewedArgs) -> None:
    assert parse_renewed(text) == parsed


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("acme 2028-02-30", "not a real date"),
        ("2028-03-31", "Which account?"),
        ("acme 99999999999999", "not an ARR I can read"),
    ],
)
def test_renewed_arguments_problems_are_sentences(text: str, problem: str) -> None:
    answer = parse_renewed(text)
    assert isinstance(answer, str) and problem in answer and answer.endswith(".")


def test_next_renewal_date_and_its_checks() -> None:
    assert next_renewal_date(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert next_renewal_date(date(2027, 5, 10), 24) == date(2029, 5, 10)
    today = date(2027, 12, 1)
    assert renewal_problems(date(2028, 1, 4), date(2029, 1, 4), today) is None
    assert "after the current one" in renewal_problems(date(2028, 1, 4), date(2028, 1, 4), today)
    assert "five years" in renewal_problems(date(2028, 1, 4), date(2034, 1, 4), today)
    assert "future" in renewal_problems(date(2026, 1, 4), date(2027, 1, 4), today)


def test_a_yellow_or_red_flag_needs_reasons() -> None:
    assert flag_problems("green", "") == {}
    assert "risks" in flag_problems("yellow", "  ")
    assert flag_problems("red", "Champion left") == {}
    assert "health" in flag_problems(None, "")
    assert "health" in flag_problems("purple", "x")


def test_at_risk_reminders_run_weekly_through_phase_two() -> None:
    end = phase_two_end(date(2028, 1, 4))
    assert end == date(2027, 10, 4)
    days = at_risk_days(date(2027, 6, 4), end)
    assert days[:2] == [date(2027, 6, 11), date(2027, 6, 18)]
    assert days[-1] == date(2027, 10, 1) and len(days) == 17
    # A holiday moves that week's reminder to the next working day.
    us = holidays.country_holidays("US")
    assert date(2027, 7, 6) in at_risk_days(date(2027, 6, 28), end, us)  # 5 Jul observed


def test_catch_up_sends_only_the_newest_alive_milestone() -> None:
    renewal = date(2028, 1, 4)
    old = OverdueMilestone(1, date(2027, 9, 6), renewal)
    newer = OverdueMilestone(2, date(2027, 11, 19), renewal)
    decision = catch_up([newer, old], date(2027, 11, 25))
    assert decision.send == newer and decision.skipped == (old,)
    # Past its deadline (the renewal date): nothing goes out, everything is skipped.
    gone = catch_up([old, newer], date(2028, 1, 5))
    assert gone.send is None and set(gone.skipped) == {old, newer}
    assert catch_up([], date(2027, 1, 1)).send is None


def test_business_hours_after_downtime() -> None:
    two_am = datetime(2027, 11, 25, 7, tzinfo=UTC)  # Thursday 02:00 in New York
    assert not in_business_hours(two_am, NEW_YORK)
    assert next_business_hour(two_am, NEW_YORK) == datetime(2027, 11, 25, 14, tzinfo=UTC)
    noon = datetime(2027, 11, 24, 17, tzinfo=UTC)
    assert in_business_hours(noon, NEW_YORK) and next_business_hour(noon, NEW_YORK) == noon
    saturday = datetime(2027, 11, 27, 15, tzinfo=UTC)
    assert next_business_hour(saturday, NEW_YORK) == datetime(2027, 11, 29, 14, tzinfo=UTC)
    us = holidays.country_holidays("US")
    thanksgiving = datetime(2027, 11, 25, 15, tzinfo=UTC)
    assert not in_business_hours(thanksgiving, NEW_YORK, us)


def test_nudges_keep_local_nine_across_dst() -> None:
    winter = local_instant(date(2027, 3, 12), datetime.min.time().replace(hour=9), NEW_YORK)
    summer = local_instant(date(2027, 3, 15), datetime.min.time().replace(hour=9), NEW_YORK)
    assert (winter.hour, summer.hour) == (14, 13)


def test_holidays_from_a_country_move_renewal_milestones() -> None:
    steps = {m.key: m for m in load_playbook()}
    us = holidays.country_holidays("US")
    # Day 30 before Wed 4 Aug 2027 is Mon 5 Jul: the observed Independence Day → Fri 2 Jul.
    assert milestone_day(steps["day-30"], date(2027, 8, 4)) == date(2027, 7, 5)
    assert milestone_day(steps["day-30"], date(2027, 8, 4), us) == date(2027, 7, 2)
    planned = {
        p.milestone.key: p.day for p in plan_cycle(load_playbook(), date(2027, 8, 4), "csm", us)
    }
    assert planned["day-30"] == date(2027, 7, 2)
