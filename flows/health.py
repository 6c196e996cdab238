"""The month-5 health flag: what the CSM says, and the at-risk rhythm a red flag starts."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

from flows.calendar import next_working_day


class Health(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


HEALTH_LABELS = {
    Health.GREEN: ":large_green_circle: Green",
    Health.YELLOW: ":large_yellow_circle: Yellow",
    Health.RED: ":red_circle: Red",
}


def flag_problems(health: str | None, risks: str) -> dict[str, str]:
    """Inline errors by field: a yellow or red flag must say why."""
    if health not in {h.value for h in Health}:
        return {"health": "Pick green, yellow or red."}
    if health != Health.GREEN and not risks.strip():
        return {"risks": "Say what puts the renewal at risk: a yellow or red flag needs reasons."}
    return {}


def at_risk_days(flagged: date, until: date, holidays=()) -> list[date]:  # noqa: ANN001
    """The weekly at-risk reminders of a red flag raised on `flagged`: every 7 days after
    it (rolled to a working day), up to but not including `until` (the end of phase 2)."""
    days = []
    day = flagged + timedelta(weeks=1)
    while (working := next_working_day(day, holidays)) < until:
        days.append(working)
        day += timedelta(weeks=1)
    return days
