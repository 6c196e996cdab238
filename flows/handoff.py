"""The handoff window, closed-won to day 30: who owns the account, day by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class HandoffStage:
    first_day: int
    last_day: int | None
    title: str
    owner: str  # who owns the account in this stage
    what: str


TIMELINE: tuple[HandoffStage, ...] = (
    HandoffStage(
        0,
        0,
        "Day 0",
        "AE",
        "Contract signed. The AE owns the account and fills the handoff packet.",
    ),
    HandoffStage(
        1,
        7,
        "Days 1–7",
        "AE → CSM",
        "Joint kickoff: the AE introduces the CSM and walks through the packet.",
    ),
    HandoffStage(
        8,
        30,
        "Days 8–30",
        "CSM (AE in the loop)",
        "Implementation. The AE is copied on the CSM's first four weekly check-ins.",
    ),
    HandoffStage(31, None, "Day 30+", "CSM", "Steady state: the CSM is the primary owner."),
)


def day_number(closed_on: date, today: date) -> int:
    return (today - closed_on).days


def current_stage(closed_on: date, today: date) -> HandoffStage:
    day = max(0, day_number(closed_on, today))
    for stage in TIMELINE:
        if stage.last_day is None or day <= stage.last_day:
            return stage
    return TIMELINE[-1]


KICKOFF_AGENDA = (
    ("10 min", "The AE walks through the handoff packet."),
    ("10 min", "The CSM asks questions."),
    ("10 min", "Next steps, and the success metric confirmed."),
)
KICKOFF_DEADLINE_DAY = 7
