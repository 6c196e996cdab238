"""The month-10 close checkpoint: the commercial owner should have the renewal signed by
month 10 of the renewal year; if not, they say why and when they now expect it to close.

Signing comes before the renewal itself: a signed renewal is still recorded as renewed
(the next cycle, the hand-back) when it takes effect, and the cycle's last steps (the
day-7 account confirmation) still run in between.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flows.bounds import DATE_RANGE, bounded_day, storable

CLOSE_STEP = "month-10"  # the playbook key of the checkpoint
NOT_CLOSED = "Renewal not closed by month 10"
REASON_MAX = 200  # one line
LATEST_AFTER_RENEWAL = timedelta(days=90)


def reason_problem(reason: str) -> str | None:
    """One sentence for a reason that is missing, not one line, or too long."""
    if not reason:
        return "Say in one line why the renewal is not signed yet."
    if "\n" in reason or "\r" in reason:
        return "Keep the reason to one line."
    if len(reason) > REASON_MAX:
        return f"Please keep the reason under {REASON_MAX} characters."
    if not storable(reason):
        return "The reason has characters Baton cannot store; please type it again."
    return None


def latest_close(renewal_date: date) -> date:
    """The last day a new expected close date may name: 90 days after the renewal date."""
    return renewal_date + LATEST_AFTER_RENEWAL


def expected_close(raw: Any, today: date, renewal_date: date) -> date | str:
    """The new expected close date picked (a `YYYY-MM-DD`), or one sentence on why not:
    it must come after today and no later than 90 days after the renewal date."""
    day = bounded_day(raw)
    if day is None:
        return f"Pick a date {DATE_RANGE}." if raw else "Pick the date you now expect it to close."
    if day <= today:
        return "Pick a date after today."
    latest = latest_close(renewal_date)
    if day > latest:
        return f"Pick a date no later than {latest:%d %b %Y}, 90 days after the renewal date."
    return day
