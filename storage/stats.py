"""The facts behind `/baton stats`: seven queries per call, each scoped by the team, none
per account (flows.stats turns them into numbers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, select
from sqlmodel import Session

from flows.stats import (
    AccountFacts,
    CheckinFact,
    EscalationFact,
    Facts,
    NudgeFact,
    OutcomeFact,
    RatingFact,
)
from storage.kinds import MessageKind
from storage.models import (
    Account,
    Checkin,
    Milestone,
    OutboxMessage,
    OwnershipEvent,
    Packet,
    PacketRating,
    Person,
    RenewalOutcome,
)

ESCALATION_KINDS = (
    MessageKind.GATE_ESCALATION,
    MessageKind.MILESTONE_ESCALATION,
    MessageKind.MISMATCH_ESCALATION,
)


def stats_facts(session: Session, team_id: str, start: datetime, end: datetime) -> Facts:
    """Every fact the window [start, end) needs, in seven queries: accounts (with their
    packet and their AE's zone), ratings, outcomes, nudged milestones, escalations,
    check-ins, and the ownership trail of the accounts checked in on.

    Accounts, ratings and outcomes are read up to `end` (not from `start`): the 30-day
    first-value cohort, the last 10 ratings, earlier churns and prior ARRs reach back."""
    (facts,) = stats_facts_of(session, team_id, [(start, end)])
    return facts


def stats_facts_of(
    session: Session, team_id: str, windows: Sequence[tuple[datetime, datetime]]
) -> list[Facts]:
    """`stats_facts` of each window, from the same seven queries: each reads the span of
    them all, and each window takes its own part (this week's numbers and last week's, for
    the digest's alerts that cleared)."""
    if not windows:
        return []
    lo, hi = min(start for start, _ in windows), max(end for _, end in windows)
    accounts = _accounts(session, team_id, hi)
    ratings = _ratings(session, team_id, hi)
    outcomes = _outcome_rows(session, team_id, hi)
    nudged = _nudged(session, team_id, lo, hi)
    escalated = _escalated(session, team_id, lo, hi)
    checkins, trail = _checkin_rows(session, team_id, lo, hi)
    found = []
    for start, end in windows:
        mine = [row for row in accounts if row[0].closed_at < end]
        by_id = {a.id: a for a, _answers, _tz in mine}
        found.append(
            Facts(
                start=start,
                end=end,
                accounts=tuple(_account_fact(a, answers, tz) for a, answers, tz in mine),
                ratings=tuple(r for r in ratings if r.created_at < end),
                outcomes=_outcomes(o for o in outcomes if o.effective_date <= end.date()),
                nudges=_nudges(nudged, start, end, by_id),
                escalations=_escalations(escalated, start, end, by_id),
                checkins=_checkins(checkins, trail, start, end, by_id),
            )
        )
    return found


def _accounts(session: Session, team_id: str, end: datetime) -> list[tuple[Account, Any, Any]]:
    rows = session.execute(_ACCOUNTS, {"team": team_id, "end": end})
    return [tuple(row) for row in rows]  # type: ignore[misc]


def _account_fact(account: Account, answers: Any, tz: str | None) -> AccountFacts:
    icp = bool(answers.get("icp_exception")) if isinstance(answers, dict) else False
    return AccountFacts(
        account_id=account.id,
        name=account.name,
        retention_model=account.retention_model,
        closed_at=account.closed_at,
        created_at=account.created_at,
        packet_completed_at=account.packet_completed_at,
        first_value_at=account.first_value_at,
        ae_user_id=account.ae_user_id,
        csm_user_id=account.csm_user_id,
        icp_exception=icp,
        tz=tz,
    )


def _ratings(session: Session, team_id: str, end: datetime) -> tuple[RatingFact, ...]:
    return tuple(
        RatingFact(
            r.account_id,
            r.rating,
            tuple(str(f) for f in r.missing) if isinstance(r.missing, list) else (),
            r.created_at,
        )
        for r in session.scalars(_RATINGS, {"team": team_id, "end": end})
    )


def _outcome_rows(session: Session, team_id: str, end: datetime) -> list[RenewalOutcome]:
    return list(session.scalars(_OUTCOMES, {"team": team_id, "end": end.date()}))


def _outcomes(rows: Iterable[RenewalOutcome]) -> tuple[OutcomeFact, ...]:
    """Every outcome effective before the window's end. The prior ARR of a renewal is the
    one recorded with it; for an outcome recorded before Baton kept it, the new ARR of the
    account's previous renewal (so such a first renewal's prior ARR is not known)."""
    facts = []
    prior: dict[int, Decimal | None] = {}
    for o in rows:
        new_arr = Decimal(o.new_arr) if o.new_arr is not None else None
        facts.append(
            OutcomeFact(
                account_id=o.account_id,
                renewal_date=o.renewal_date,
                outcome=o.outcome,
                effective_date=o.effective_date,
                reason=o.reason,
                prior_arr=_prior(o, prior.get(o.account_id)),
                new_arr=new_arr,
            )
        )
        if o.outcome == "renewed":
            prior[o.account_id] = new_arr
    return tuple(facts)


def _prior(outcome: RenewalOutcome, previous: Decimal | None) -> Decimal | None:
    if outcome.outcome != "renewed":
        return None
    return Decimal(outcome.prior_arr) if outcome.prior_arr is not None else previous


def _nudged(
    session: Session, team_id: str, start: datetime, end: datetime
) -> list[tuple[Milestone, datetime]]:
    """Milestones first nudged in [start, end): the earliest sent nudge of any round (to an
    owner or the account channel)."""
    values = {"team": team_id, "start": start, "end": end}
    return [(m, first_at) for m, first_at in session.execute(_NUDGED, values)]


def _nudges(
    nudged: list[tuple[Milestone, datetime]],
    start: datetime,
    end: datetime,
    accounts: dict[int, Account],
) -> tuple[NudgeFact, ...]:
    """The window's first nudges, one fact per owner role."""
    facts = []
    for milestone, first_at in nudged:
        if not start <= first_at < end:
            continue
        account = accounts.get(milestone.account_id)
        for role in dict.fromkeys(milestone.owners or []):
            facts.append(
                NudgeFact(
                    milestone_id=milestone.id,
                    account_id=milestone.account_id,
                    user_id=account.user_of(role) if account else None,
                    role=str(role),
                    first_nudged_at=first_at,
                    done_at=milestone.done_at,
                )
            )
    return tuple(facts)


def _escalated(session: Session, team_id: str, start: datetime, end: datetime) -> list[Any]:
    return session.execute(_ESCALATED, {"team": team_id, "start": start, "end": end}).all()


def _escalations(
    rows: list[Any], start: datetime, end: datetime, accounts: dict[int, Account]
) -> tuple[EscalationFact, ...]:
    """Escalations sent in the window, once however many managers got them: a milestone's
    about each of its owners, a gate's (packet missing) and a mismatch's about the AE."""
    seen: set[tuple[Any, ...]] = set()
    facts = []
    for kind, account_id, s_type, s_id, milestone_id, round_, sent_at, owners in rows:
        key = (kind, account_id, s_type, s_id, milestone_id, round_)
        if not start <= sent_at < end or key in seen or account_id is None:
            continue
        seen.add(key)
        account = accounts.get(account_id)
        if kind == MessageKind.MILESTONE_ESCALATION:
            roles = list(dict.fromkeys(owners or []))
            people = [account.user_of(r) if account else None for r in roles]
        else:
            people = [account.ae_user_id if account else None]
        facts += [EscalationFact(account_id, p, sent_at, str(kind)) for p in people]
    return tuple(facts)


def _checkin_rows(
    session: Session, team_id: str, start: datetime, end: datetime
) -> tuple[list[Any], dict[int, list[tuple[datetime, str | None]]]]:
    """The check-ins of [start, end), and the ownership trail (up to `end`) of their
    accounts."""
    values = {"team": team_id, "start": start, "end": end}
    checkins = session.execute(_CHECKINS, values).all()
    trail: dict[int, list[tuple[datetime, str | None]]] = defaultdict(list)
    if checkins:
        for account_id, at, ae in session.execute(_TRAIL, values):
            trail[account_id].append((at, ae))
    return checkins, trail


def _checkins(
    checkins: list[Any],
    trail: dict[int, list[tuple[datetime, str | None]]],
    start: datetime,
    end: datetime,
    accounts: dict[int, Account],
) -> tuple[CheckinFact, ...]:
    """The window's check-ins with the AE of the moment (the ownership trail; the
    account's AE when the trail says nothing that early)."""
    facts = []
    for account_id, mismatch, created_at in checkins:
        if not start <= created_at < end:
            continue
        account = accounts.get(account_id)
        ae = account.ae_user_id if account else None
        for at, holder in trail.get(account_id, []):
            if at <= created_at:
                ae = holder
        facts.append(CheckinFact(account_id, ae, bool(mismatch), created_at))
    return tuple(facts)


# The statements, built once (building them cost more than running them), the team and the
# span as parameters.
_TEAM, _START, _END = bindparam("team"), bindparam("start"), bindparam("end")
_ACCOUNTS = (
    select(Account, Packet.answers, Person.tz)
    .outerjoin(Packet, and_(Packet.team_id == Account.team_id, Packet.account_id == Account.id))
    .outerjoin(
        Person, and_(Person.team_id == Account.team_id, Person.user_id == Account.ae_user_id)
    )
    .where(Account.team_id == _TEAM, Account.closed_at < _END)
    .order_by(Account.id)
)
_RATINGS = (
    select(PacketRating)
    .where(PacketRating.team_id == _TEAM, PacketRating.created_at < _END)
    .order_by(PacketRating.created_at, PacketRating.id)
)
_OUTCOMES = (
    select(RenewalOutcome)
    .where(RenewalOutcome.team_id == _TEAM, RenewalOutcome.effective_date <= _END)
    .order_by(RenewalOutcome.account_id, RenewalOutcome.renewal_date, RenewalOutcome.id)
)
_FIRST_NUDGES = (
    select(
        OutboxMessage.milestone_id.label("milestone_id"),
        func.min(OutboxMessage.sent_at).label("first_at"),
    )
    .where(
        OutboxMessage.team_id == _TEAM,
        OutboxMessage.kind == MessageKind.MILESTONE_NUDGE,
        OutboxMessage.milestone_id.is_not(None),
        OutboxMessage.sent_at.is_not(None),
    )
    .group_by(OutboxMessage.milestone_id)
    .subquery()
)
_NUDGED = (
    select(Milestone, _FIRST_NUDGES.c.first_at)
    .join(_FIRST_NUDGES, _FIRST_NUDGES.c.milestone_id == Milestone.id)
    .where(
        Milestone.team_id == _TEAM,
        _FIRST_NUDGES.c.first_at >= _START,
        _FIRST_NUDGES.c.first_at < _END,
    )
    .order_by(Milestone.id)
)
_ESCALATED = (
    select(
        OutboxMessage.kind,
        OutboxMessage.account_id,
        OutboxMessage.subject_type,
        OutboxMessage.subject_id,
        OutboxMessage.milestone_id,
        OutboxMessage.round,
        OutboxMessage.sent_at,
        Milestone.owners,
    )
    .outerjoin(
        Milestone,
        and_(
            Milestone.team_id == OutboxMessage.team_id, Milestone.id == OutboxMessage.milestone_id
        ),
    )
    .where(
        OutboxMessage.team_id == _TEAM,
        OutboxMessage.kind.in_(ESCALATION_KINDS),
        OutboxMessage.sent_at >= _START,
        OutboxMessage.sent_at < _END,
    )
    .order_by(OutboxMessage.sent_at, OutboxMessage.id)
)
_IN_WINDOW = (Checkin.team_id == _TEAM, Checkin.created_at >= _START, Checkin.created_at < _END)
_CHECKINS = (
    select(Checkin.account_id, Checkin.mismatch, Checkin.created_at)
    .where(*_IN_WINDOW)
    .order_by(Checkin.created_at, Checkin.id)
)
_TRAIL = (
    select(OwnershipEvent.account_id, OwnershipEvent.at, OwnershipEvent.ae_user_id)
    .where(
        OwnershipEvent.team_id == _TEAM,
        OwnershipEvent.at < _END,
        OwnershipEvent.account_id.in_(select(Checkin.account_id).where(*_IN_WINDOW)),
    )
    .order_by(OwnershipEvent.account_id, OwnershipEvent.at, OwnershipEvent.id)
)
