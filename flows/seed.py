"""A year of made-up history for a demo or trial book (`baton seed`): pure, deterministic
for a seed, every moment before `now`.

The figures follow the playbook (PLAYBOOK §4): most packets within the gate's two business
days, some late, some never; packet quality varies (ratings and fields marked missing);
about one deal in ten is an ICP exception and churns about 2.5 times as often; most
accounts reach first value within 30 days; renewals by model close at about the quoted
rates (joint AE + CSM 92 % with 15 % expansion, CSM-only 85 % / 8 %, a single commercial
owner 78 % / 22 %); churns come with causes at every stage, and expectation mismatch is a
larger share of them than the playbook's 20 % alarm, so that an alert is in force.
"""

from __future__ import annotations

import random
from collections.abc import Container, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flows.calendar import BUSINESS_MORNING, local_instant
from flows.checkins import PRIMARY_DAY
from flows.gate import escalation_time
from flows.outcomes import ChurnReason, next_renewal_date
from flows.playbook import Step
from flows.renewal import commercial_owner, plan_cycle
from flows.retention import RetentionModel

MAX_BOOK = 20_000
DEFAULT_SEED = 1
HISTORY_DAYS = 456  # about 15 months of closes
CRM_PREFIX = "seed-"  # what marks a seeded account: its CRM id begins with it
SEED_DOMAIN = "seed.example"
ZONES = ("America/New_York", "America/Chicago", "America/Los_Angeles", "Europe/London")
CHECKIN_WEEKS = 6  # the weekly check-ins of the handoff window (flows.checkins.PROMPT_WEEKS)
RATING_DAY = 30
ICP_SHARE = 0.10
ICP_CHURN_FACTOR = 2.5
EARLY_CHURN = 0.03  # churns in days 0–90, per account
MIDDLE_CHURN = 0.03  # churns in days 91–365
SEMIANNUAL = 0.35  # accounts on six-month terms: they renew twice within the history
MODEL_SHARES = (("A", 0.40), ("B", 0.25), ("C", 0.15), ("D", 0.20))
# (renewal rate, mean expansion) of each motion.
JOINT, CSM_ONLY, SINGLE = (0.92, 0.15), (0.85, 0.08), (0.78, 0.22)
# Each stage's churn causes, dealt from a shuffled deck of these (expectation mismatch,
# product fit, economic) rather than drawn one by one: any few churns in a row come out
# close to the mix, so a small book's window shows it too.
REASONS_EARLY = (6, 2, 2)
REASONS_MIDDLE = (3, 5, 2)
REASONS_RENEWAL = (4, 2, 4)
# Fields CSMs mark missing, most often first.
MISSING_WEIGHTS = (
    ("success_metric", 6),
    ("month6_risks", 5),
    ("daily_users", 4),
    ("competitors", 3),
    ("economic_buyer", 3),
    ("objections", 2),
    ("champion", 1),
)
ANSWERS = {
    "goal": "“We need renewals forecastable a quarter out.”",
    "objections": "Price against the incumbent: answered with the migration credit.",
    "competitors": "Nearly chose the incumbent's upgrade; it lacked the reporting.",
    "success_metric": "Forecast accuracy within 5 % by the second quarter.",
    "champion": "Head of Revenue Operations, very engaged.",
    "economic_buyer": "The CFO: cares about the payback period.",
    "daily_users": "The CS team (12) and two RevOps analysts.",
    "month6_risks": "Slow data import; the champion changing roles; missed QBR.",
    "skeptics": "The IT lead, who wanted to build it in-house.",
    "marketing": "Webinar on renewal forecasting; two case studies read.",
}
REQUIRED_AE = (
    "goal",
    "objections",
    "competitors",
    "success_metric",
    "champion",
    "economic_buyer",
    "daily_users",
    "month6_risks",
)
WORDS = [
    "Acme",
    "Birch",
    "Cobalt",
    "Delta",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Indigo",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Meridian",
    "Nimbus",
    "Orchid",
    "Pioneer",
    "Quartz",
    "Redwood",
    "Summit",
    "Tundra",
    "Umber",
    "Vertex",
    "Willow",
    "Xenon",
    "Yarrow",
    "Zephyr",
]
SUFFIXES = ("Robotics", "Labs", "Health", "Logistics", "Foods", "Energy", "Media", "Systems")


@dataclass(frozen=True)
class SeedPerson:
    user_id: str
    email: str
    name: str
    tz: str
    role: str  # ae | csm | am | manager


@dataclass(frozen=True)
class SeedCheckin:
    number: int
    at: datetime
    sentiment: str
    mismatch: bool
    first_value: bool
    clarified_at: datetime | None = None
    escalated_at: datetime | None = None  # the mismatch went unanswered: the managers were told


@dataclass(frozen=True)
class SeedMilestone:
    key: str
    title: str
    renewal_date: date
    due_date: date
    owners: tuple[str, ...]
    nudged_at: datetime
    status: str  # done | open | skipped
    done_at: datetime | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True)
class SeedOutcome:
    renewal_date: date
    outcome: str  # renewed | churned
    effective_date: date
    recorded_at: datetime
    new_renewal_date: date | None = None
    new_arr: Decimal | None = None
    reason: str | None = None


@dataclass(frozen=True)
class SeedOwnership:
    at: datetime
    cause: str
    ae: SeedPerson


@dataclass(frozen=True)
class SeedAccount:
    number: int
    crm_id: str
    name: str
    closed_at: datetime
    contract_start: date
    term_months: int
    model: str
    arr: Decimal  # as of now (the last renewal's)
    first_arr: Decimal
    renewal_date: date  # the current cycle's
    ae: SeedPerson  # the AE now
    csm: SeedPerson
    am: SeedPerson | None
    manager: SeedPerson
    commercial: str
    icp_exception: bool
    packet_answers: dict[str, object]
    packet_at: datetime | None  # when the AE's part was last saved
    packet_completed_at: datetime | None
    gate_escalated_at: datetime | None
    csm_acknowledged_at: datetime | None
    kickoff_held_at: datetime | None
    first_value_at: datetime | None
    rating: int | None
    missing: tuple[str, ...]
    rated_at: datetime | None
    churned_at: datetime | None
    checkins: tuple[SeedCheckin, ...] = ()
    milestones: tuple[SeedMilestone, ...] = ()
    outcomes: tuple[SeedOutcome, ...] = ()
    ownership: tuple[SeedOwnership, ...] = ()

    def user_of(self, role: str) -> str | None:
        person = {"ae": self.ae, "csm": self.csm, "am": self.am}.get(role)
        return person.user_id if person else None

    @property
    def status(self) -> str:
        if self.churned_at is not None:
            return "churned"
        return "handed_off" if self.packet_completed_at is not None else "handoff_pending"


@dataclass(frozen=True)
class SeedPlan:
    now: datetime
    people: tuple[SeedPerson, ...]
    accounts: tuple[SeedAccount, ...] = field(default_factory=tuple)


def is_seeded(crm_id: str) -> bool:
    return crm_id.startswith(CRM_PREFIX)


def plan_book(
    book: int,
    seed: int,
    now: datetime,
    playbook: Sequence[Step],
    *,
    threshold: Decimal = Decimal(75000),
    holidays: Container[date] = (),
) -> SeedPlan:
    """The history of `book` accounts as of `now` (aware), the same for the same seed."""
    if not 1 <= book <= MAX_BOOK:
        raise ValueError(f"the book must be from 1 to {MAX_BOOK:,} accounts")
    rng = random.Random(f"baton-seed-{seed}")
    people = _people(book, rng)
    by_role = {role: [p for p in people if p.role == role] for role in ("ae", "csm", "am")}
    managers = [p for p in people if p.role == "manager"]
    draw = _Draw(rng, now, holidays, threshold, tuple(playbook))
    accounts = tuple(_account(draw, n, by_role, managers) for n in range(1, book + 1))
    return SeedPlan(now, people, accounts)


def _people(book: int, rng: random.Random) -> tuple[SeedPerson, ...]:
    team = max(3, min(60, book // 40))
    counts = {"ae": team, "csm": team, "am": max(2, team // 3), "manager": max(2, team // 8)}
    people = []
    for role, count in counts.items():
        for n in range(1, count + 1):
            tag = f"{role}{n:02d}"
            people.append(
                SeedPerson(
                    user_id=f"USEED{role.upper()}{n:02d}",
                    email=f"{tag}@{SEED_DOMAIN}",
                    name=f"{role.upper()} {n:02d} (seeded)",
                    tz=rng.choice(ZONES),
                    role=role,
                )
            )
    return tuple(people)


@dataclass
class _Draw:
    rng: random.Random
    now: datetime
    holidays: Container[date]
    threshold: Decimal
    playbook: tuple[Step, ...]
    decks: dict[tuple[int, int, int], list[str]] = field(default_factory=dict)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, weighted: Sequence[tuple[object, float]], rest: object) -> object:
        roll = self.rng.random()
        for value, weight in weighted:
            if roll < weight:
                return value
            roll -= weight
        return rest

    def reason(self, mix: tuple[int, int, int]) -> str:
        deck = self.decks.setdefault(mix, [])
        if not deck:
            deck += [r for r, count in zip(ChurnReason, mix, strict=True) for _ in range(count)]
            self.rng.shuffle(deck)
        return str(deck.pop())

    def past(self, moment: datetime | None) -> datetime | None:
        return moment if moment is not None and moment < self.now else None


def _account(
    draw: _Draw,
    number: int,
    by_role: dict[str, list[SeedPerson]],
    managers: list[SeedPerson],
) -> SeedAccount:
    rng = draw.rng
    closed_at = _close(draw)
    model = str(draw.pick(MODEL_SHARES, "A"))
    arr = Decimal(int(min(400_000, max(5_000, rng.lognormvariate(10.4, 0.8))) // 100 * 100))
    ae, csm, manager = rng.choice(by_role["ae"]), rng.choice(by_role["csm"]), rng.choice(managers)
    am = rng.choice(by_role["am"]) if model == "C" else None
    commercial = commercial_owner(RetentionModel(model), arr, draw.threshold, am is not None)
    icp = draw.chance(ICP_SHARE)
    quality = str(draw.pick((("good", 0.6), ("fair", 0.3)), "poor"))
    term = 6 if draw.chance(SEMIANNUAL) else 12
    ae_tz = ZoneInfo(ae.tz)
    gate_due = escalation_time(closed_at, ae_tz, draw.holidays)
    packet_at, completed, escalated = _packet(draw, closed_at, gate_due)
    answers = _answers(draw, model, icp, complete=completed is not None, started=packet_at)
    first_value = _first_value(draw, closed_at)
    churn = _churn(draw, closed_at, icp)
    checkins = _checkins(draw, closed_at, first_value, churn, icp, ae_tz)
    rating, missing, rated_at = _rating(draw, closed_at, completed, quality, churn)
    outcomes, renewal_date, arr_now, churned_at = _outcomes(
        draw, closed_at, term, model, arr, icp, churn
    )
    if churned_at is not None:
        first_value = first_value if first_value and first_value < churned_at else None
    milestones = _milestones(draw, closed_at, outcomes, renewal_date, commercial, churned_at, ae_tz)
    ownership = [SeedOwnership(closed_at, "closed-won", ae)]
    if draw.chance(0.05):
        later = draw.past(closed_at + timedelta(days=rng.randint(20, 200)))
        if later is not None:
            ae = rng.choice([p for p in by_role["ae"] if p != ae] or by_role["ae"])
            ownership.append(SeedOwnership(later, "assigned", ae))
    kickoff = draw.past(closed_at + timedelta(days=rng.randint(2, 8), hours=rng.randint(0, 6)))
    return SeedAccount(
        number=number,
        crm_id=f"{CRM_PREFIX}{number:06d}",
        name=_name(number),
        closed_at=closed_at,
        contract_start=closed_at.date(),
        term_months=term,
        model=model,
        arr=arr_now,
        first_arr=arr,
        renewal_date=renewal_date,
        ae=ae,
        csm=csm,
        am=am,
        manager=manager,
        commercial=commercial,
        icp_exception=icp,
        packet_answers=answers,
        packet_at=packet_at,
        packet_completed_at=completed,
        gate_escalated_at=escalated,
        csm_acknowledged_at=draw.past(closed_at + timedelta(hours=rng.randint(2, 30))),
        kickoff_held_at=kickoff
        if churned_at is None or (kickoff and kickoff < churned_at)
        else None,
        first_value_at=first_value,
        rating=rating,
        missing=missing,
        rated_at=rated_at,
        churned_at=churned_at,
        checkins=checkins,
        milestones=milestones,
        outcomes=outcomes,
        ownership=tuple(ownership),
    )


def _name(number: int) -> str:
    word = WORDS[number % len(WORDS)]
    suffix = SUFFIXES[(number // len(WORDS)) % len(SUFFIXES)]
    return f"{word} {suffix} {number}"


def _close(draw: _Draw) -> datetime:
    """A working day in the last 15 months (at least a day ago), in US working hours."""
    day = (draw.now - timedelta(days=draw.rng.randint(1, HISTORY_DAYS))).date()
    while day.weekday() >= 5 or day in draw.holidays:
        day -= timedelta(days=1)
    moment = datetime.combine(day, time(14), UTC) + timedelta(minutes=draw.rng.randint(0, 540))
    return min(moment, draw.now - timedelta(hours=1))


def _packet(
    draw: _Draw, closed_at: datetime, gate_due: datetime
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(the AE's last save, the completion, the gate's escalation): most complete within
    the gate's two business days, some late, some never."""
    rng = draw.rng
    roll = rng.random()
    span = (gate_due - closed_at).total_seconds()
    if roll < 0.75:
        done = closed_at + timedelta(seconds=rng.uniform(0.05, 0.95) * span)
    elif roll < 0.9:
        done = gate_due + timedelta(hours=rng.randint(2, 240))
    else:
        started = closed_at + timedelta(hours=rng.randint(1, 48))
        return draw.past(started), None, draw.past(gate_due)
    completed = draw.past(done)
    escalated = draw.past(gate_due) if done > gate_due else None
    return completed or draw.past(closed_at + timedelta(hours=1)), completed, escalated


def _answers(
    draw: _Draw, model: str, icp: bool, *, complete: bool, started: datetime | None
) -> dict[str, object]:
    if started is None:
        return {}
    keys = list(REQUIRED_AE)
    if not complete:
        keys = draw.rng.sample(keys, draw.rng.randint(2, len(keys) - 1))
    answers: dict[str, object] = {key: ANSWERS[key] for key in keys}
    answers["retention_model"] = model
    if complete:  # skeptics outside the draw: seeded books stay as they were
        answers["skeptics"] = ANSWERS["skeptics"]
        answers["marketing"] = ANSWERS["marketing"]
    if icp:
        answers["icp_exception"] = True
        answers["icp_reason"] = "Smaller team than our ICP; a new market for us."
    return answers


def _first_value(draw: _Draw, closed_at: datetime) -> datetime | None:
    roll = draw.rng.random()
    if roll < 0.72:
        days = draw.rng.uniform(4, 30)
    elif roll < 0.92:
        days = draw.rng.uniform(31, 90)
    else:
        return None
    return draw.past(closed_at + timedelta(days=days))


@dataclass(frozen=True)
class _Churn:
    """A churn planned before the first renewal (at renewal, `_outcomes` decides)."""

    at: date
    reason: str


def _churn(draw: _Draw, closed_at: datetime, icp: bool) -> _Churn | None:
    factor = ICP_CHURN_FACTOR if icp else 1.0
    roll = draw.rng.random()
    if roll < EARLY_CHURN * factor:
        days, reasons = draw.rng.randint(20, 90), REASONS_EARLY
    elif roll < (EARLY_CHURN + MIDDLE_CHURN) * factor:
        days, reasons = draw.rng.randint(91, 170), REASONS_MIDDLE
    else:
        return None
    reason = draw.reason(reasons)
    return _Churn(closed_at.date() + timedelta(days=days), reason)


def _checkins(
    draw: _Draw,
    closed_at: datetime,
    first_value: datetime | None,
    churn: _Churn | None,
    icp: bool,
    tz: ZoneInfo,
) -> tuple[SeedCheckin, ...]:
    """The CSM's weekly check-ins of the handoff window; a deal bound to churn over
    expectations shows it early."""
    rng = draw.rng
    warned = churn is not None and churn.reason == ChurnReason.EXPECTATION_MISMATCH
    p_mismatch = 0.35 if warned else 0.12 if icp else 0.06
    found: list[SeedCheckin] = []
    value_flagged = False
    for week in range(1, CHECKIN_WEEKS + 1):
        if rng.random() < 0.1:
            continue  # a week skipped
        at = closed_at + timedelta(days=7 * week, hours=rng.randint(-3, 5))
        if at >= draw.now or (churn is not None and at.date() >= churn.at):
            break
        mismatch = rng.random() < p_mismatch
        value = not value_flagged and first_value is not None and first_value <= at
        value_flagged |= value
        clarified = escalated = None
        if mismatch:
            if rng.random() < 0.6:
                clarified = draw.past(at + timedelta(hours=rng.randint(1, 40)))
            if clarified is None:
                escalated = draw.past(escalation_time(at, tz, draw.holidays))
        sentiment = "concerned" if mismatch else str(draw.pick((("positive", 0.55),), "neutral"))
        found.append(
            SeedCheckin(len(found) + 1, at, sentiment, mismatch, value, clarified, escalated)
        )
    return tuple(found)


def _rating(
    draw: _Draw,
    closed_at: datetime,
    completed: datetime | None,
    quality: str,
    churn: _Churn | None,
) -> tuple[int | None, tuple[str, ...], datetime | None]:
    rng = draw.rng
    at = draw.past(closed_at + timedelta(days=RATING_DAY, hours=rng.randint(1, 72)))
    if completed is None or at is None or rng.random() < 0.15:
        return None, (), None
    if churn is not None and at.date() >= churn.at:
        return None, (), None
    low, high, missing = {"good": (4, 5, (0, 1)), "fair": (3, 4, (1, 2)), "poor": (1, 3, (2, 4))}[
        quality
    ]
    fields = [key for key, _ in MISSING_WEIGHTS]
    weights = [w for _, w in MISSING_WEIGHTS]
    chosen: list[str] = []
    for _ in range(rng.randint(*missing)):
        key = rng.choices(fields, weights)[0]
        if key not in chosen:
            chosen.append(key)
    return rng.randint(low, high), tuple(chosen), at


def _motion(model: str, arr: Decimal, threshold: Decimal) -> tuple[float, float]:
    if model == "D":
        model = "B" if arr >= threshold else "A"
    return {"A": CSM_ONLY, "B": JOINT, "C": SINGLE}[model]


def _outcomes(
    draw: _Draw,
    closed_at: datetime,
    term: int,
    model: str,
    arr: Decimal,
    icp: bool,
    churn: _Churn | None,
) -> tuple[tuple[SeedOutcome, ...], date, Decimal, datetime | None]:
    """Each cycle that ended before today: (outcomes, the current renewal date, the ARR
    now, when it churned)."""
    rng = draw.rng
    today = draw.now.date()
    renewal = next_renewal_date(closed_at.date(), term)
    outcomes: list[SeedOutcome] = []
    while True:
        if churn is not None and churn.at < renewal:
            if churn.at > today:
                return tuple(outcomes), renewal, arr, None
            at = _recorded(churn.at)
            outcomes.append(SeedOutcome(renewal, "churned", churn.at, at, reason=churn.reason))
            return tuple(outcomes), renewal, arr, at
        if renewal > today:
            return tuple(outcomes), renewal, arr, None
        rate, expansion = _motion(model, arr, draw.threshold)
        churn_p = (1 - rate - EARLY_CHURN) * (ICP_CHURN_FACTOR if icp else 1.0)
        if rng.random() < churn_p:
            reason = draw.reason(REASONS_RENEWAL)
            at = _recorded(renewal)
            outcomes.append(SeedOutcome(renewal, "churned", renewal, at, reason=reason))
            return tuple(outcomes), renewal, arr, at
        growth = max(-0.15, rng.gauss(expansion, 0.08))
        new_arr = Decimal(int(arr * Decimal(str(1 + growth)) // 100 * 100))
        new_date = next_renewal_date(renewal, term)
        recorded = datetime.combine(renewal - timedelta(days=rng.randint(1, 20)), time(16), UTC)
        outcomes.append(
            SeedOutcome(
                renewal, "renewed", renewal, min(recorded, draw.now), new_date, new_arr=new_arr
            )
        )
        renewal, arr = new_date, new_arr


def _recorded(day: date) -> datetime:
    return datetime.combine(day, time(17), UTC)


def _milestones(
    draw: _Draw,
    closed_at: datetime,
    outcomes: Sequence[SeedOutcome],
    renewal_date: date,
    commercial: str,
    churned_at: datetime | None,
    tz: ZoneInfo,
) -> tuple[SeedMilestone, ...]:
    """The milestones of every cycle so far whose day came after the close and before
    today (or the churn): nudged at 09:00 of their day in the AE's zone, most done in time."""
    rng = draw.rng
    cycles = [o.renewal_date for o in outcomes]
    if not outcomes or outcomes[-1].outcome == "renewed":
        cycles.append(renewal_date)
    ended = {o.renewal_date: o for o in outcomes}
    end = churned_at or draw.now
    found = []
    for cycle in dict.fromkeys(cycles):
        window_ends = closed_at.date() + timedelta(days=PRIMARY_DAY)  # rituals give way
        for planned in plan_cycle(
            draw.playbook, cycle, commercial, draw.holidays, handoff_ends=window_ends
        ):
            # A seeded book has no Ops people: the CSM stands in for Ops, as Baton does.
            owners = tuple(dict.fromkeys("csm" if o == "ops" else o for o in planned.owners))
            if planned.day <= closed_at.date() or not owners:
                continue
            nudged = local_instant(planned.day, BUSINESS_MORNING, tz)
            if nudged >= end:
                continue
            due = escalation_time(nudged, tz, draw.holidays)
            roll = rng.random()
            done_at = escalated = None
            if roll < 0.8:
                done_at = nudged + timedelta(
                    seconds=rng.uniform(0.05, 0.95) * (due - nudged).total_seconds()
                )
            elif roll < 0.92:
                done_at = due + timedelta(hours=rng.randint(2, 120))
                escalated = due
            else:
                escalated = due
            done_at = done_at if done_at is not None and done_at < end else None
            escalated = escalated if escalated is not None and escalated < end else None
            if planned.milestone.every:
                escalated = None  # a ritual never escalates
            status = "done" if done_at else "skipped" if cycle in ended else "open"
            found.append(
                SeedMilestone(
                    planned.key,
                    planned.milestone.title,
                    cycle,
                    planned.day,
                    owners,
                    nudged,
                    status,
                    done_at,
                    escalated,
                )
            )
    return tuple(found)
