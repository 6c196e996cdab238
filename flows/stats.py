"""Measuring the handoff (PLAYBOOK §4): facts in, numbers out, the window a parameter.

Every number carries its sample size `n`; a rate, median or average of nothing is None.
Rates are rounded to 3 places at the end only; money is summed as Decimal.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flows.checkins import RATING_ALERT_BELOW, RATING_MINIMUM, RATING_WINDOW
from flows.gate import escalation_time
from flows.outcomes import ChurnReason

FIRST_VALUE_DAYS = 30
MISMATCH_ALERT_ABOVE = 0.20
EARLY_CHURN_ALERT_ABOVE = 0.40
# No churn alert fires on fewer churns than this: two churns out of three is noise.
MIN_CHURNS = 5
# Nor a rating alert on fewer ratings than the check-ins' own alert needs (as it is today).
MIN_RATINGS = RATING_MINIMUM
TOP_MISSING = 3
UNASSIGNED = "unassigned"  # the key of facts with nobody in the role
UNKNOWN_REASON = "unknown"
EARLY, MIDDLE, LATE = "0-90", "91-365", "365+"
RENEWED, CHURNED = "renewed", "churned"


# --- facts (what storage fills) ------------------------------------------------------------
@dataclass(frozen=True)
class AccountFacts:
    account_id: int
    name: str
    retention_model: str
    closed_at: datetime
    created_at: datetime
    packet_completed_at: datetime | None = None
    first_value_at: datetime | None = None
    ae_user_id: str | None = None
    csm_user_id: str | None = None
    icp_exception: bool = False
    tz: str | None = None  # the AE's zone (the gate's clock runs in it); None: the default


@dataclass(frozen=True)
class RatingFact:
    account_id: int
    rating: int
    missing: tuple[str, ...]
    created_at: datetime


@dataclass(frozen=True)
class OutcomeFact:
    account_id: int
    renewal_date: date
    outcome: str  # renewed | churned
    effective_date: date
    reason: str | None = None
    prior_arr: Decimal | None = None
    new_arr: Decimal | None = None


@dataclass(frozen=True)
class NudgeFact:
    """One owner (by role) of one nudged milestone."""

    milestone_id: int
    account_id: int
    user_id: str | None
    role: str
    first_nudged_at: datetime
    done_at: datetime | None = None


@dataclass(frozen=True)
class EscalationFact:
    account_id: int
    user_id: str | None  # the person escalated about
    at: datetime
    kind: str = "milestone_escalation"


@dataclass(frozen=True)
class CheckinFact:
    account_id: int
    ae_user_id: str | None  # the AE when the check-in was logged
    mismatch: bool
    created_at: datetime


@dataclass(frozen=True)
class Facts:
    """What the numbers of one window are computed from (`storage.stats.stats_facts`)."""

    start: datetime
    end: datetime
    accounts: tuple[AccountFacts, ...] = ()
    ratings: tuple[RatingFact, ...] = ()
    outcomes: tuple[OutcomeFact, ...] = ()
    nudges: tuple[NudgeFact, ...] = ()
    escalations: tuple[EscalationFact, ...] = ()
    checkins: tuple[CheckinFact, ...] = ()


# --- numbers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """`count` of `n`; `accounts`: the ones counted (behind an alert)."""

    value: float | None
    n: int
    count: int = 0
    accounts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Measure:
    """A median, an average or a ratio over `n` samples."""

    value: float | None
    n: int


@dataclass(frozen=True)
class Tally:
    """The most frequent keys with their counts, over `n` samples."""

    top: tuple[tuple[str, int], ...]
    n: int


@dataclass(frozen=True)
class Stats:
    start: datetime
    end: datetime
    packet_completion: Rate
    """Packet completion rate: of the accounts closed in the window, the share whose packet
    was complete by the gate's escalation time (09:00 after two full business days, in the
    AE's zone); an account still inside those two days with no packet yet is not counted."""
    packet_hours: Measure
    """Time to complete the packet: median hours from close to packet complete, over the
    accounts closed in the window whose packet is complete."""
    packet_rating: Measure
    """Packet rating: the average of the last 10 day-30 ratings (1–5) given before the end
    of the window."""
    missing_fields: Tally
    """Fields missing most: the 3 fields marked missing most often in those 10 ratings."""
    first_value_days: Measure
    """Time to first value: median days from close to first value, over the accounts closed
    in the window that reached it."""
    first_value_30d: Rate
    """First value within 30 days: of the accounts whose 30th day after close fell in the
    window (closed at least 30 days before its end), the share that reached first value
    within those 30 days."""
    churn_reasons: dict[str, Rate]
    """Churn root causes: each reason's share of the churns effective in the window
    (expectation_mismatch, product_fit, economic; unknown if none was given)."""
    churn_timing: dict[str, Rate]
    """Churn timing: the share of the window's churns effective 0–90, 91–365 and over 365
    days after the close."""
    icp_churn: Rate
    """ICP exceptions' churn rate: of the accounts live in the window (closed before its
    end, not churned before its start) whose packet marks an ICP exception, the share that
    churned in the window."""
    non_icp_churn: Rate
    """Churn rate of the other live accounts, the same way."""
    icp_ratio: Measure
    """ICP churn ratio: the exceptions' churn rate over the others' (the playbook expects
    about 2.5); n is the exceptions' sample."""
    milestone_on_time: Rate
    """Milestone on-time rate: of the milestones first nudged in the window, the share done
    by the nudge's escalation time (09:00 after two full business days); one still inside
    those two days and not done is not counted."""
    milestone_on_time_by_role: dict[str, Rate]
    """The same by owner role (each owner of a milestone counts it once)."""
    milestone_on_time_by_person: dict[str, Rate]
    """The same by owner (the person holding the role)."""
    escalations_by_person: dict[str, int]
    """Escalations in the window, counted by the person escalated about."""
    renewal_by_model: dict[str, Rate]
    """Renewal rate per retention model: renewed / (renewed + churned) among the outcomes
    effective in the window."""
    expansion_by_model: dict[str, Measure]
    """Expansion rate per retention model: sum(new ARR) / sum(prior ARR) − 1 over the
    window's renewals with both ARRs known."""
    mismatch_by_ae: dict[str, Rate]
    """Check-in mismatch rate per AE: the share of the window's check-ins flagging an
    expectation mismatch, by the AE of the account when it was logged."""


@dataclass(frozen=True)
class Alert:
    key: str
    value: float
    threshold: float
    accounts: tuple[int, ...]
    advice: str


# --- helpers ---------------------------------------------------------------------------------
def _round(value: float | Decimal | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _rate(hits: Iterable[int], n: int) -> Rate:
    accounts = tuple(hits)
    count = len(accounts)
    return Rate(_round(count / n) if n else None, n, count, tuple(dict.fromkeys(accounts)))


def _rate_of(items: list[tuple[int, bool]]) -> Rate:
    """items: (account id, counted?)."""
    return _rate([a for a, hit in items if hit], len(items))


def _median(values: list[float]) -> Measure:
    return Measure(_round(statistics.median(values)) if values else None, len(values))


def _in(moment: datetime, start: datetime, end: datetime) -> bool:
    return start <= moment < end


def _midnight(day: date, like: datetime) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=like.tzinfo)


def _day_in(day: date, start: datetime, end: datetime) -> bool:
    """A date is in the window when its midnight (in the window's zone, UTC) is."""
    return _in(_midnight(day, start), start, end)


def _top(counts: Counter[str], size: int) -> tuple[tuple[str, int], ...]:
    """The most frequent first, ties by name (the same answer every time)."""
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:size])


def _zone(name: str | None, default: ZoneInfo) -> ZoneInfo:
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def _group(items: Iterable[tuple[str, tuple[int, bool]]]) -> dict[str, Rate]:
    groups: dict[str, list[tuple[int, bool]]] = defaultdict(list)
    for key, item in items:
        groups[key].append(item)
    return {key: _rate_of(groups[key]) for key in sorted(groups)}


# --- the numbers ---------------------------------------------------------------------------
def compute_stats(facts: Facts, default_tz: ZoneInfo, holidays: Container[date] = ()) -> Stats:
    """Every number of the window [facts.start, facts.end)."""
    start, end = facts.start, facts.end
    accounts = {a.account_id: a for a in facts.accounts}
    closed = [a for a in facts.accounts if _in(a.closed_at, start, end)]
    window_outcomes = [o for o in facts.outcomes if _day_in(o.effective_date, start, end)]
    churns = [o for o in window_outcomes if o.outcome == CHURNED]
    ratings = _last_ratings(facts.ratings, end)
    icp, non_icp = _icp_churn(facts, accounts)
    return Stats(
        start=start,
        end=end,
        packet_completion=_packet_completion(closed, end, default_tz, holidays),
        packet_hours=_median(
            [
                max(0.0, (a.packet_completed_at - a.closed_at).total_seconds() / 3600)
                for a in closed
                if a.packet_completed_at is not None
            ]
        ),
        packet_rating=Measure(
            _round(statistics.fmean(r.rating for r in ratings)) if ratings else None,
            len(ratings),
        ),
        missing_fields=Tally(
            _top(Counter(f for r in ratings for f in set(r.missing)), TOP_MISSING),
            len(ratings),
        ),
        first_value_days=_median(
            [
                max(0.0, (a.first_value_at - a.closed_at).total_seconds() / 86400)
                for a in closed
                if a.first_value_at is not None
            ]
        ),
        first_value_30d=_first_value_30d(facts.accounts, start, end),
        churn_reasons=_churn_reasons(churns),
        churn_timing=_churn_timing(churns, accounts),
        icp_churn=icp,
        non_icp_churn=non_icp,
        icp_ratio=Measure(
            _round((icp.count / icp.n) / (non_icp.count / non_icp.n))
            if icp.n and non_icp.count  # neither unknown nor zero
            else None,
            icp.n,
        ),
        **_milestones(facts, accounts, default_tz, holidays),
        renewal_by_model=_group(
            (_model(accounts, o.account_id), (o.account_id, o.outcome == RENEWED))
            for o in window_outcomes
            if o.outcome in (RENEWED, CHURNED)
        ),
        expansion_by_model=_expansion(window_outcomes, accounts),
        mismatch_by_ae=_group(
            (c.ae_user_id or UNASSIGNED, (c.account_id, c.mismatch))
            for c in facts.checkins
            if _in(c.created_at, start, end)
        ),
    )


def _packet_completion(
    closed: list[AccountFacts], end: datetime, default_tz: ZoneInfo, holidays: Container[date]
) -> Rate:
    items = []
    for account in closed:
        due = escalation_time(account.closed_at, _zone(account.tz, default_tz), holidays)
        done = account.packet_completed_at
        if done is None and due > end:
            continue  # still inside the gate's two days: not yet late
        items.append((account.account_id, done is not None and done <= due))
    return _rate_of(items)


def _last_ratings(ratings: Iterable[RatingFact], end: datetime) -> list[RatingFact]:
    given = sorted(
        (r for r in ratings if r.created_at < end and 1 <= r.rating <= 5),
        key=lambda r: (r.created_at, r.account_id),
    )
    return given[-RATING_WINDOW:]


def _first_value_30d(accounts: Iterable[AccountFacts], start: datetime, end: datetime) -> Rate:
    span = timedelta(days=FIRST_VALUE_DAYS)
    return _rate_of(
        [
            (
                a.account_id,
                a.first_value_at is not None and a.first_value_at - a.closed_at <= span,
            )
            for a in accounts
            if _in(a.closed_at + span, start, end)
        ]
    )


def _churn_reasons(churns: list[OutcomeFact]) -> dict[str, Rate]:
    known = {str(r) for r in ChurnReason}
    keys = [str(r) for r in ChurnReason]
    reasons = [o.reason if o.reason in known else UNKNOWN_REASON for o in churns]
    if UNKNOWN_REASON in reasons:
        keys.append(UNKNOWN_REASON)
    return {
        key: _rate(
            [o.account_id for o, r in zip(churns, reasons, strict=True) if r == key], len(churns)
        )
        for key in keys
    }


def churn_bucket(closed_at: datetime, effective: date) -> str:
    days = (effective - closed_at.date()).days
    return EARLY if days <= 90 else MIDDLE if days <= 365 else LATE


def _churn_timing(churns: list[OutcomeFact], accounts: dict[int, AccountFacts]) -> dict[str, Rate]:
    timed = [o for o in churns if o.account_id in accounts]
    buckets = [churn_bucket(accounts[o.account_id].closed_at, o.effective_date) for o in timed]
    return {
        key: _rate(
            [o.account_id for o, b in zip(timed, buckets, strict=True) if b == key], len(timed)
        )
        for key in (EARLY, MIDDLE, LATE)
    }


def _icp_churn(facts: Facts, accounts: dict[int, AccountFacts]) -> tuple[Rate, Rate]:
    start, end = facts.start, facts.end
    churned_before = {
        o.account_id
        for o in facts.outcomes
        if o.outcome == CHURNED and _midnight(o.effective_date, start) < start
    }
    churned_in = {
        o.account_id
        for o in facts.outcomes
        if o.outcome == CHURNED and _day_in(o.effective_date, start, end)
    }
    live = [
        a for a in accounts.values() if a.closed_at < end and a.account_id not in churned_before
    ]
    return tuple(  # type: ignore[return-value]
        _rate_of(
            [(a.account_id, a.account_id in churned_in) for a in live if a.icp_exception is flag]
        )
        for flag in (True, False)
    )


def _model(accounts: dict[int, AccountFacts], account_id: int) -> str:
    account = accounts.get(account_id)
    return account.retention_model if account else UNASSIGNED


def _expansion(
    outcomes: list[OutcomeFact], accounts: dict[int, AccountFacts]
) -> dict[str, Measure]:
    sums: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0), Decimal(0)])
    for o in outcomes:
        if o.outcome != RENEWED or o.prior_arr is None or o.new_arr is None:
            continue
        total = sums[_model(accounts, o.account_id)]
        total[0] += o.prior_arr
        total[1] += o.new_arr
        total[2] += 1
    return {
        model: Measure(_round(new / prior - 1) if prior > 0 else None, int(n))
        for model, (prior, new, n) in sorted(sums.items())
    }


def _milestones(
    facts: Facts,
    accounts: dict[int, AccountFacts],
    default_tz: ZoneInfo,
    holidays: Container[date],
) -> dict[str, object]:
    start, end = facts.start, facts.end
    judged: list[tuple[NudgeFact, bool]] = []
    for nudge in facts.nudges:
        if not _in(nudge.first_nudged_at, start, end):
            continue
        account = accounts.get(nudge.account_id)
        tz = _zone(account.tz if account else None, default_tz)
        due = escalation_time(nudge.first_nudged_at, tz, holidays)
        if nudge.done_at is None and due > end:
            continue  # its two days are not over yet
        judged.append((nudge, nudge.done_at is not None and nudge.done_at <= due))
    by_milestone = {n.milestone_id: (n.account_id, hit) for n, hit in judged}
    escalated = Counter(e.user_id or UNASSIGNED for e in facts.escalations if _in(e.at, start, end))
    return {
        "milestone_on_time": _rate_of(list(by_milestone.values())),
        "milestone_on_time_by_role": _group((n.role, (n.account_id, hit)) for n, hit in judged),
        "milestone_on_time_by_person": _group(
            (n.user_id or UNASSIGNED, (n.account_id, hit)) for n, hit in judged
        ),
        "escalations_by_person": dict(sorted(escalated.items())),
    }


# --- alerts ----------------------------------------------------------------------------------
def alerts(stats: Stats) -> list[Alert]:
    """What the playbook says needs doing. The churn alerts fire only on at least
    MIN_CHURNS (5) churns in the window, the rating alert on at least MIN_RATINGS (3, as the check-ins' alert)
    ratings; a share exactly at its threshold is not an alert."""
    found: list[Alert] = []
    rating = stats.packet_rating
    if rating.value is not None and rating.n >= MIN_RATINGS and rating.value < RATING_ALERT_BELOW:
        found.append(
            Alert(
                "packet_rating",
                rating.value,
                RATING_ALERT_BELOW,
                (),
                "CSMs rate the packets poorly: go through the fields they mark missing most "
                "with the AEs, and make those fields required if they keep coming up empty.",
            )
        )
    mismatch = stats.churn_reasons.get(str(ChurnReason.EXPECTATION_MISMATCH))
    if _over(mismatch, MISMATCH_ALERT_ABOVE):
        found.append(
            Alert(
                "expectation_mismatch",
                mismatch.value,  # type: ignore[union-attr,arg-type]
                MISMATCH_ALERT_ABOVE,
                mismatch.accounts,  # type: ignore[union-attr]
                "Too many customers leave because they expected something else: compare what "
                "sales promised in these accounts' packets with what was delivered, and fix "
                "the pitch or the qualification upstream.",
            )
        )
    early = stats.churn_timing.get(EARLY)
    if _over(early, EARLY_CHURN_ALERT_ABOVE):
        found.append(
            Alert(
                "early_churn",
                early.value,  # type: ignore[union-attr,arg-type]
                EARLY_CHURN_ALERT_ABOVE,
                early.accounts,  # type: ignore[union-attr]
                "Most churn comes in the first 90 days, so the handoff is where customers are "
                "lost: tighten the packet, hold the kickoff sooner and watch first value.",
            )
        )
    return found


def _over(rate: Rate | None, threshold: float) -> bool:
    return (
        rate is not None
        and rate.value is not None
        and rate.n >= MIN_CHURNS
        and rate.count / rate.n > threshold  # exact, not the rounded value
    )


# --- narrowing -------------------------------------------------------------------------------
def filter_facts(
    facts: Facts,
    model: str | None = None,
    person: str | None = None,
    account_ids: Container[int] | None = None,
) -> Facts:
    """Only the accounts of one retention model, of one person (as AE or CSM), or among
    `account_ids` (a channel's account), and every fact about them."""
    tests: list[Callable[[AccountFacts], bool]] = []
    if model is not None:
        tests.append(lambda a: a.retention_model == model.upper())
    if person is not None:
        tests.append(lambda a: person in (a.ae_user_id, a.csm_user_id))
    if account_ids is not None:
        tests.append(lambda a: a.account_id in account_ids)
    kept = tuple(a for a in facts.accounts if all(test(a) for test in tests))
    ids = {a.account_id for a in kept}
    return replace(
        facts,
        accounts=kept,
        ratings=tuple(r for r in facts.ratings if r.account_id in ids),
        outcomes=tuple(o for o in facts.outcomes if o.account_id in ids),
        nudges=tuple(n for n in facts.nudges if n.account_id in ids),
        escalations=tuple(e for e in facts.escalations if e.account_id in ids),
        checkins=tuple(c for c in facts.checkins if c.account_id in ids),
    )
