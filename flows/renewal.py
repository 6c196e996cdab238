"""The renewal cycle: when each milestone falls, and who owns it under the retention model."""

from __future__ import annotations

from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from flows.calendar import is_working_day, next_working_day
from flows.dates import add_months
from flows.playbook import Anchor, Step
from flows.retention import RetentionModel, resolved_model

CYCLE_MONTHS = 12


@dataclass(frozen=True)
class PlannedMilestone:
    milestone: Step
    day: date  # the working day it falls on (local date of the recipients)
    owners: tuple[str, ...]  # roles nudged, "commercial" resolved to a real role
    key: str  # the occurrence's key: the step's, or for a ritual its month's (`ae-checkin-m2`)


def previous_working_day(day: date, holidays: Container[date] = ()) -> date:
    while not is_working_day(day, holidays):
        day -= timedelta(days=1)
    return day


def cycle_start(renewal_date: date) -> date:
    """The renewal year starts 12 months before the renewal date (Feb 29 → Feb 28)."""
    return add_months(renewal_date, -CYCLE_MONTHS)


def milestone_day(milestone: Step, renewal_date: date, holidays: Container[date] = ()) -> date:
    """Renewal deadlines roll back to the previous working day (never late); the month-N
    health steps roll forward to the next one."""
    if milestone.anchor == Anchor.CYCLE_MONTH:
        return month_day(milestone.offset, renewal_date, holidays)
    day = renewal_date - timedelta(days=milestone.offset)
    return previous_working_day(day, holidays)


def month_day(month: int, renewal_date: date, holidays: Container[date] = ()) -> date:
    """Month `month` of the cycle, rolled forward to a working day."""
    return next_working_day(add_months(cycle_start(renewal_date), month), holidays)


def commercial_owner(model: RetentionModel, arr: Decimal, threshold: Decimal, has_am: bool) -> str:
    """Who owns the renewal's commercial side: a role name (csm, ae or am)."""
    model = resolved_model(model, arr, threshold)
    if model == RetentionModel.AE_RETAINS:
        return "ae"
    if model == RetentionModel.AM_BRIDGE:
        return "am" if has_am else "csm"
    return "am" if has_am else "csm"


def plan_cycle(
    playbook: Sequence[Step],
    renewal_date: date,
    commercial: str,
    holidays: Container[date] = (),
    *,
    tier: str | None = None,
    handoff_ends: date | None = None,
) -> list[PlannedMilestone]:
    """Every milestone of the cycle ending on `renewal_date`, in order, owners resolved: a
    ritual once per occurrence, except those on or before `handoff_ends` (the handoff
    window has its own check-ins); a step for some tiers only if the account is of `tier`."""
    planned = []
    for milestone in playbook:
        if milestone.tiers and tier not in milestone.tiers:
            continue
        owners = tuple(
            dict.fromkeys(commercial if o == "commercial" else o for o in milestone.owners)
        )
        if not milestone.every:
            day = milestone_day(milestone, renewal_date, holidays)
            planned.append(PlannedMilestone(milestone, day, owners, milestone.key))
            continue
        for key, month in milestone.occurrences():
            day = month_day(month, renewal_date, holidays)
            if handoff_ends is None or day > handoff_ends:
                planned.append(PlannedMilestone(milestone, day, owners, key))
    return sorted(planned, key=lambda p: p.day)


def crosses_threshold(old_arr: Decimal, new_arr: Decimal, threshold: Decimal) -> bool:
    """An ARR change that moves a tiered account between its A and B sides."""
    return (old_arr >= threshold) != (new_arr >= threshold)


PHASE_TWO_END_MONTH = 9  # co-own runs months 6–8; the close phase starts at month 9


def phase_two_end(renewal_date: date) -> date:
    """The first day after phase 2 (co-own) of the cycle ending on `renewal_date`."""
    return add_months(cycle_start(renewal_date), PHASE_TWO_END_MONTH)


@dataclass(frozen=True)
class OverdueMilestone:
    """A milestone whose nudge should already have gone out."""

    id: int
    due_date: date
    renewal_date: date  # its deadline: after the renewal date it is pointless


@dataclass(frozen=True)
class CatchUp:
    send: OverdueMilestone | None  # the one nudge that goes out, labelled late
    skipped: tuple[OverdueMilestone, ...]  # named in it (or, past their deadline, just skipped)


def catch_up(overdue: Sequence[OverdueMilestone], today: date) -> CatchUp:
    """After downtime, one account's overdue milestones: only the newest still before its
    deadline goes out; every other one is skipped. Never a storm."""
    alive = [m for m in overdue if m.renewal_date >= today]
    if not alive:
        return CatchUp(None, tuple(overdue))
    newest = max(alive, key=lambda m: (m.due_date, m.id))
    return CatchUp(newest, tuple(m for m in overdue if m is not newest))
