"""The facts behind `/baton stats`: seven queries per call, each scoped by the team, none
per account (flows.stats turns them into numbers)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, select
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
    accounts = _accounts(session, team_id, end)
    by_id = {a.id: a for a, _answers, _tz in accounts}
    return Facts(
        start=start,
        end=end,
        accounts=tuple(_account_fact(a, answers, tz) for a, answers, tz in accounts),
        ratings=_ratings(session, team_id, end),
        outcomes=_outcomes(session, team_id, end),
        nudges=_nudges(session, team_id, start, end, by_id),
        escalations=_escalations(session, team_id, start, end, by_id),
        checkins=_checkins(session, team_id, start, end, by_id),
    )


def _accounts(session: Session, team_id: str, end: datetime) -> list[tuple[Account, Any, Any]]:
    rows = session.execute(
        select(Account, Packet.answers, Person.tz)
        .outerjoin(Packet, and_(Packet.team_id == Account.team_id, Packet.account_id == Account.id))
        .outerjoin(
            Person, and_(Person.team_id == Account.team_id, Person.user_id == Account.ae_user_id)
        )
        .where(Account.team_id == team_id, Account.closed_at < end)
        .order_by(Account.id)
    )
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
    rows = session.scalars(
        select(PacketRating)
        .where(PacketRating.team_id == team_id, PacketRating.created_at < end)
        .order_by(PacketRating.created_at, PacketRating.id)
    )
    return tuple(
        RatingFact(
            r.account_id,
            r.rating,
            tuple(str(f) for f in r.missing) if isinstance(r.missing, list) else (),
            r.created_at,
        )
        for r in rows
    )


def _outcomes(session: Session, team_id: str, end: datetime) -> tuple[OutcomeFact, ...]:
    """Every outcome effective before the window's end. The prior ARR of a renewal is the
    one recorded with it; for an outcome recorded before Baton kept it, the new ARR of the
    account's previous renewal (so such a first renewal's prior ARR is not known)."""
    rows = session.scalars(
        select(RenewalOutcome)
        .where(RenewalOutcome.team_id == team_id, RenewalOutcome.effective_date <= end.date())
        .order_by(RenewalOutcome.account_id, RenewalOutcome.renewal_date, RenewalOutcome.id)
    )
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


def _nudges(
    session: Session, team_id: str, start: datetime, end: datetime, accounts: dict[int, Account]
) -> tuple[NudgeFact, ...]:
    """Milestones first nudged in the window: the earliest sent nudge of any round (to an
    owner or the account channel), one fact per owner role."""
    first = (
        select(
            OutboxMessage.milestone_id.label("milestone_id"),
            func.min(OutboxMessage.sent_at).label("first_at"),
        )
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.kind == MessageKind.MILESTONE_NUDGE,
            OutboxMessage.milestone_id.is_not(None),
            OutboxMessage.sent_at.is_not(None),
        )
        .group_by(OutboxMessage.milestone_id)
        .subquery()
    )
    rows = session.execute(
        select(Milestone, first.c.first_at)
        .join(first, first.c.milestone_id == Milestone.id)
        .where(Milestone.team_id == team_id, first.c.first_at >= start, first.c.first_at < end)
        .order_by(Milestone.id)
    )
    facts = []
    for milestone, first_at in rows:
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


def _escalations(
    session: Session, team_id: str, start: datetime, end: datetime, accounts: dict[int, Account]
) -> tuple[EscalationFact, ...]:
    """Escalations sent in the window, once however many managers got them: a milestone's
    about each of its owners, a gate's (packet missing) and a mismatch's about the AE."""
    rows = session.execute(
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
                Milestone.team_id == OutboxMessage.team_id,
                Milestone.id == OutboxMessage.milestone_id,
            ),
        )
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.kind.in_(ESCALATION_KINDS),
            OutboxMessage.sent_at >= start,
            OutboxMessage.sent_at < end,
        )
        .order_by(OutboxMessage.sent_at, OutboxMessage.id)
    )
    seen: set[tuple[Any, ...]] = set()
    facts = []
    for kind, account_id, s_type, s_id, milestone_id, round_, sent_at, owners in rows:
        key = (kind, account_id, s_type, s_id, milestone_id, round_)
        if key in seen or account_id is None:
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


def _checkins(
    session: Session, team_id: str, start: datetime, end: datetime, accounts: dict[int, Account]
) -> tuple[CheckinFact, ...]:
    """The window's check-ins with the AE of the moment (the ownership trail; the
    account's AE when the trail says nothing that early)."""
    window = (Checkin.team_id == team_id, Checkin.created_at >= start, Checkin.created_at < end)
    checkins = session.execute(
        select(Checkin.account_id, Checkin.mismatch, Checkin.created_at)
        .where(*window)
        .order_by(Checkin.created_at, Checkin.id)
    ).all()
    trail: dict[int, list[tuple[datetime, str | None]]] = defaultdict(list)
    if checkins:
        events = session.execute(
            select(OwnershipEvent.account_id, OwnershipEvent.at, OwnershipEvent.ae_user_id)
            .where(
                OwnershipEvent.team_id == team_id,
                OwnershipEvent.at < end,
                OwnershipEvent.account_id.in_(select(Checkin.account_id).where(*window)),
            )
            .order_by(OwnershipEvent.account_id, OwnershipEvent.at, OwnershipEvent.id)
        )
        for account_id, at, ae in events:
            trail[account_id].append((at, ae))
    facts = []
    for account_id, mismatch, created_at in checkins:
        account = accounts.get(account_id)
        ae = account.ae_user_id if account else None
        for at, holder in trail.get(account_id, []):
            if at <= created_at:
                ae = holder
        facts.append(CheckinFact(account_id, ae, bool(mismatch), created_at))
    return tuple(facts)
