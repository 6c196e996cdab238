"""Where each account stands today: phase and owners, next milestone, what is late.

Built in one batch for a list of accounts (a few queries, whatever the number), in the
caller's unit of work: every view (`/baton owner`, the App Home, the week, the digest)
reads it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from bot.accounts.facts import facts_of
from bot.accounts.ops import OPS, ops_people
from bot.people.cover import follow
from bot.platform.services import Services
from flows.close import CLOSE_STEP, NOT_CLOSED
from flows.gate import ESCALATE_AFTER_BUSINESS_DAYS, business_days_between
from flows.ownership import Ownership, Phase, Share, ownership
from flows.renewal import cycle_start
from storage.models import (
    Account,
    AccountStatus,
    CloseCheckpoint,
    Coverage,
    HealthFlag,
    Milestone,
)
from storage.ownership import coverages_at
from storage.portfolio import cycle_flags, live_milestones, renewals_into, unclosed_of


@dataclass(frozen=True)
class OverdueItem:
    what: str
    since: date
    owners: tuple[str, ...]  # roles
    note: str | None = None  # what the owners said of it (plain text: escaped when shown)


@dataclass
class Standing:
    account: Account
    owns: Ownership
    next: Milestone | None
    overdue: list[OverdueItem] = field(default_factory=list)
    flag: HealthFlag | None = None
    ops: tuple[str, ...] = ()  # bot.accounts.ops.ops_people: the first owns the Ops steps

    @property
    def ops_owner(self) -> str | None:
        return self.ops[0] if self.ops else None

    def holder(self, role: str) -> str | None:
        if role == OPS:  # the CSM has the Ops steps while nobody is known for them
            return self.ops_owner or self.account.csm_user_id
        return self.account.user_of(role)

    def parts_held_by(self, people: Collection[str]) -> list[Share]:
        """This week's parts whose role one of `people` holds."""
        return [p for p in self.owns.parts if self.holder(p.role) in people]

    @property
    def urgency(self) -> tuple:
        """Most urgent first: the most overdue, then red, then the nearest next step."""
        soonest = self.next.due_date if self.next else date.max
        red = self.flag is not None and self.flag.health == "red"
        return (-len(self.overdue), not red, soonest, self.account.name.lower())


def standings(
    session: Session, services: Services, accounts: list[Account], now: datetime
) -> list[Standing]:
    today = services.today(now)
    renewals = renewals_into(session, accounts)
    milestones = live_milestones(session, accounts)
    flags = cycle_flags(session, accounts)
    unclosed = unclosed_of(session, accounts)
    found = []
    for account in accounts:
        facts = facts_of(services, account, renewals.get(account.id))
        owns = ownership(facts, today)
        live = milestones.get(account.id, [])
        late = [late_milestone(m) for m in live if is_late(m, today, now)]
        if account.id in unclosed:
            late.append(not_closed_item(*unclosed[account.id]))
        upcoming = [m for m in live if m.due_date >= today]
        late += _late_other(services, account, owns, facts.commercial, now)
        nxt = upcoming[0] if upcoming else None
        ops = ops_people(services, account)
        found.append(Standing(account, owns, nxt, late, flags.get(account.id), ops))
    return found


def packet_late(services: Services, account: Account, now: datetime) -> bool:
    """The packet is still owed after the gate's escalation point (two business days)."""
    tz, holidays = services.settings.timezone, services.settings.holidays
    return (
        account.status == AccountStatus.HANDOFF_PENDING
        and business_days_between(account.closed_at, now, tz, holidays)
        > ESCALATE_AFTER_BUSINESS_DAYS
    )


def is_late(milestone: Milestone, today: date, now: datetime) -> bool:
    if milestone.due_date >= today:
        return False
    return milestone.snoozed_until is None or milestone.snoozed_until <= now


def late_milestone(milestone: Milestone) -> OverdueItem:
    """A late month-10 checkpoint is named for what it means: the renewal is not closed."""
    what = NOT_CLOSED if milestone.key == CLOSE_STEP else milestone.title
    return OverdueItem(what, milestone.due_date, tuple(milestone.owners))


def not_closed_item(milestone: Milestone, answer: CloseCheckpoint) -> OverdueItem:
    """A month-10 checkpoint answered "not yet": why, and the new expected close date."""
    expected = f"; new expected close {answer.expected_close:%a %d %b %Y}"
    note = f"{answer.reason or ''}{expected if answer.expected_close else ''}"
    return OverdueItem(NOT_CLOSED, milestone.due_date, tuple(milestone.owners), note)


def _late_other(
    services: Services, account: Account, owns: Ownership, commercial: str, now: datetime
) -> list[OverdueItem]:
    late = []
    today = services.today(now)
    if packet_late(services, account, now):
        late.append(OverdueItem("Handoff packet", services.today(account.closed_at), ("ae",)))
    if owns.phase == Phase.CLOSE and today > account.renewal_date:
        late.append(
            OverdueItem("Renewal outcome (renewed or churned)", account.renewal_date, (commercial,))
        )
    handed_back_by = cycle_start(account.renewal_date)  # the old renewal date: month 12
    if owns.phase == Phase.HAND_BACK and today > handed_back_by:
        late.append(OverdueItem("Hand-back call", handed_back_by, (commercial,)))
    return late


def windows_now(session: Session, team_id: str, now: datetime) -> dict[str, Coverage]:
    return coverages_at(session, team_id, now)


def stand_in(
    user_id: str | None, windows: dict[str, Coverage]
) -> tuple[str | None, list[Coverage]]:
    """Who actually answers for `user_id` now, and the coverage chain leading there."""
    if user_id is None:
        return None, []
    chain = follow(user_id, windows)
    return (chain[-1].backup_user_id if chain else user_id), chain
