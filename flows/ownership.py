"""Who owns an account on a given day: the phase of its life and each person's part in it.

The handoff window (closed-won → day 30), then the renewal year counted from its start
(renewal date − 12 months): months 0–5 health, 6–8 co-own, 9–12 close, and after a
renewal the hand-back from the commercial owner to the CSM.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from flows.dates import add_months
from flows.renewal import cycle_start
from flows.retention import RetentionModel

HANDOFF_DAYS = 30  # the window closes after day 30
KICKOFF_DAYS = 7  # days 1–7: kickoff and warm introduction
HAND_BACK_DAYS = 30  # a hand-back not held this long after the new cycle starts is overdue
CO_OWN_MONTH = 6
CLOSE_MONTH = 9


class Phase(StrEnum):
    HANDOFF = "handoff"
    HEALTH = "health"
    CO_OWN = "co_own"
    CLOSE = "close"
    HAND_BACK = "hand_back"
    CHURNED = "churned"

    @property
    def label(self) -> str:
        return _PHASE_LABELS[self]


_PHASE_LABELS = {
    Phase.HANDOFF: "Handoff window",
    Phase.HEALTH: "Health (months 0–5)",
    Phase.CO_OWN: "Co-own (months 6–8)",
    Phase.CLOSE: "Close (months 9–12)",
    Phase.HAND_BACK: "Hand-back",
    Phase.CHURNED: "Churned",
}


class Duty(StrEnum):
    PRIMARY = "primary"
    COMMERCIAL = "commercial"
    ADOPTION = "adoption"
    IN_THE_LOOP = "in the loop"


ROLE_NAMES = {"ae": "AE", "csm": "CSM", "am": "AM", "ops": "Ops"}

_MODEL_NAMES = {
    RetentionModel.CLEAN_HANDOFF: "Model A (clean handoff)",
    RetentionModel.AE_RETAINS: "Model B (AE retains commercial)",
    RetentionModel.AM_BRIDGE: "Model C (AM bridge)",
    RetentionModel.TIERED: "Model D (tiered by ARR)",
}


@dataclass(frozen=True)
class Facts:
    """What decides ownership, read off an account and its renewal records."""

    closed_on: date
    renewal_date: date  # the current cycle's
    model: RetentionModel
    commercial: str  # the role owning the commercial side this cycle: ae, csm or am
    packet_complete: bool
    churned_on: date | None = None
    renewed_on: date | None = None  # when the previous cycle's renewal was recorded
    hand_back_held: bool = False


@dataclass(frozen=True)
class Share:
    role: str  # ae, csm or am
    duties: tuple[Duty, ...]
    what: str

    @property
    def primary(self) -> bool:
        return Duty.PRIMARY in self.duties


@dataclass(frozen=True)
class Ownership:
    phase: Phase
    stage: str  # where in the phase, in words
    starts: date
    ends: date | None  # the first day of what comes next; None: when something is done
    parts: tuple[Share, ...]
    why: str

    def part_of(self, role: str) -> Share | None:
        return next((p for p in self.parts if p.role == role), None)

    @property
    def handover(self) -> tuple:
        """What a change of owner compares: who holds which duties."""
        return (self.phase, tuple((p.role, p.duties) for p in self.parts))


def model_name(model: RetentionModel, commercial: str) -> str:
    name = _MODEL_NAMES[model]
    if model == RetentionModel.TIERED:
        side = "at or above the threshold" if commercial == "ae" else "below the threshold"
        name += f", {side}"
    return name


def ownership(facts: Facts, day: date) -> Ownership:
    """Who owns the account on `day` (a local date), and why."""
    if facts.churned_on is not None and day >= facts.churned_on:
        return Ownership(
            Phase.CHURNED,
            f"since {facts.churned_on:%d %b %Y}",
            facts.churned_on,
            None,
            (),
            "The account churned: nobody owns it and its nudges have stopped.",
        )
    day = max(day, facts.closed_on)
    since_close = (day - facts.closed_on).days
    if not facts.packet_complete or since_close <= HANDOFF_DAYS:
        return _handoff(facts, since_close)
    if _in_hand_back(facts, day):
        return _hand_back(facts)
    return _cycle(facts, day)


def _handoff(facts: Facts, since_close: int) -> Ownership:
    closed = facts.closed_on
    why = "The handoff window: the AE hands the account to the CSM over the first 30 days."
    if not facts.packet_complete:
        return Ownership(
            Phase.HANDOFF,
            f"day {since_close}: the handoff packet is not complete, so the gate is closed",
            closed,
            None,
            (
                Share("ae", (Duty.PRIMARY,), "owes the handoff packet"),
                Share("csm", (Duty.ADOPTION,), "takes over once the packet is in"),
            ),
            "Until the AE's packet is complete the deal is not handed off: the AE owns it.",
        )
    if since_close <= KICKOFF_DAYS:
        stage = "day 0: closed-won" if since_close == 0 else f"day {since_close} of 7: kickoff"
        return Ownership(
            Phase.HANDOFF,
            stage,
            closed,
            closed + timedelta(days=KICKOFF_DAYS + 1),
            (
                Share("ae", (Duty.PRIMARY,), "runs the kickoff and introduces the CSM"),
                Share("csm", (Duty.ADOPTION,), "joins the kickoff and takes over"),
            ),
            why,
        )
    return Ownership(
        Phase.HANDOFF,
        f"day {since_close} of 30: implementation",
        closed + timedelta(days=KICKOFF_DAYS + 1),
        closed + timedelta(days=HANDOFF_DAYS + 1),
        (
            Share("csm", (Duty.PRIMARY, Duty.ADOPTION), "runs implementation and weekly check-ins"),
            Share("ae", (Duty.IN_THE_LOOP,), "is copied on the first four check-ins"),
        ),
        why,
    )


def _in_hand_back(facts: Facts, day: date) -> bool:
    if facts.renewed_on is None or facts.hand_back_held or facts.commercial == "csm":
        return False
    return day < cycle_start(facts.renewal_date) + timedelta(days=HAND_BACK_DAYS)


def _hand_back(facts: Facts) -> Ownership:
    commercial = ROLE_NAMES[facts.commercial]
    return Ownership(
        Phase.HAND_BACK,
        f"renewed on {facts.renewed_on:%d %b %Y}; the hand-back call is not held yet",
        facts.renewed_on or cycle_start(facts.renewal_date),
        None,
        (
            Share("csm", (Duty.PRIMARY, Duty.ADOPTION), "takes the account back for the new cycle"),
            Share(facts.commercial, (Duty.COMMERCIAL,), "hands back: a call and shared notes"),
        ),
        f"{model_name(facts.model, facts.commercial)}: after the renewal the {commercial} "
        "hands the account back to the CSM, with one overlapping call.",
    )


def _cycle(facts: Facts, day: date) -> Ownership:
    start = cycle_start(facts.renewal_date)
    co_own, close = add_months(start, CO_OWN_MONTH), add_months(start, CLOSE_MONTH)
    model = model_name(facts.model, facts.commercial)
    commercial = ROLE_NAMES[facts.commercial]
    if day < co_own:
        parts = _merge(
            Share("csm", (Duty.PRIMARY, Duty.ADOPTION), "owns health, adoption and outcomes"),
            Share(facts.commercial, (Duty.COMMERCIAL,), "a monthly relationship check-in"),
        )
        month = max(0, _months_between(start, day))
        return Ownership(
            Phase.HEALTH,
            f"month {month} of the renewal year",
            start,
            co_own,
            parts,
            f"{model}: in months 0–5 the CSM owns health; the month-5 flag ends the phase.",
        )
    if day < close:
        parts = _merge(
            Share("csm", (Duty.PRIMARY, Duty.ADOPTION), "surfaces churn risk and expansion"),
            Share(
                facts.commercial,
                (Duty.PRIMARY, Duty.COMMERCIAL),
                "leads the business case and negotiation prep",
            ),
        )
        return Ownership(
            Phase.CO_OWN,
            f"month {_months_between(start, day)} of the renewal year",
            co_own,
            close,
            parts,
            f"{model}: in months 6–8 the CSM and the {commercial} co-own the renewal.",
        )
    stage = (
        f"month {_months_between(start, day)} of the renewal year"
        if day <= facts.renewal_date
        else f"the renewal date ({facts.renewal_date:%d %b %Y}) passed with no outcome recorded"
    )
    parts = _merge(
        Share(
            facts.commercial,
            (Duty.PRIMARY, Duty.COMMERCIAL),
            "runs negotiation, pricing and terms",
        ),
        Share("csm", (Duty.ADOPTION,), "supplies success stories, references and roadmap"),
    )
    return Ownership(
        Phase.CLOSE,
        stage,
        close,
        None,
        parts,
        f"{model}: from month 9 the {commercial} runs the close; the CSM supports it.",
    )


def _merge(*parts: Share) -> tuple[Share, ...]:
    """One entry per role: the CSM who is also the commercial owner holds both parts."""
    merged: dict[str, Share] = {}
    for part in parts:
        if part.role in merged:
            before = merged[part.role]
            duties = tuple(dict.fromkeys(before.duties + part.duties))
            merged[part.role] = Share(part.role, duties, f"{before.what}; {part.what}")
        else:
            merged[part.role] = part
    return tuple(sorted(merged.values(), key=lambda p: not p.primary))


def _months_between(start: date, day: date) -> int:
    months = (day.year - start.year) * 12 + day.month - start.month
    return months - 1 if add_months(start, months) > day else months


def changes(facts: Facts, first: date, last: date) -> list[tuple[date, Ownership]]:
    """The days in [first, last] on which ownership changes hands, with the new ownership."""
    found = []
    before = ownership(facts, first - timedelta(days=1)).handover
    day = first
    while day <= last:
        now = ownership(facts, day)
        if now.handover != before:
            found.append((day, now))
            before = now.handover
        day += timedelta(days=1)
    return found
