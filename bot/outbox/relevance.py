"""Whether an owed message is still worth sending at the moment it would be sent
(a reminder for a packet completed a second ago, a nudge for a milestone already done)."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlmodel import Session

from flows.health import Health
from storage.accounts import get_account
from storage.checkins import checked_in_since
from storage.milestones import get_milestone
from storage.models import Account, AccountStatus, MilestoneStatus
from storage.outbox import Claim
from storage.renewals import cycle_flag


def moot_reason(session: Session, claim: Claim) -> str | None:
    if claim.account_id is None or claim.kind == "message":
        return None
    account = get_account(session, claim.team_id, claim.account_id)
    if account is None:
        return "account gone"
    if account.status == AccountStatus.CHURNED:
        return "account churned"
    if claim.kind in ("gate_reminder", "gate_escalation") and account.packet_completed_at:
        return "packet completed"
    if claim.kind == "kickoff_reminder" and account.kickoff_held_at:
        return "kickoff held"
    if claim.kind in ("milestone_nudge", "milestone_escalation"):
        return _milestone_moot(session, claim, account)
    if claim.kind == "at_risk_reminder":
        flag = cycle_flag(session, claim.team_id, account.id, account.renewal_date)
        return None if flag is not None and flag.health == Health.RED else "no longer flagged red"
    if claim.kind == "checkin_prompt" and checked_in_since(
        session, claim.team_id, account.id, claim.due_at.date() - timedelta(days=6)
    ):
        return "already checked in this week"
    return None


_ROUND = re.compile(r"^ms-(\d+)-r(\d+)-")


def milestone_round(dedupe_key: str) -> tuple[int, int] | None:
    """(milestone id, round) of a milestone nudge's or escalation's dedupe key."""
    found = _ROUND.match(dedupe_key)
    return (int(found.group(1)), int(found.group(2))) if found else None


def _milestone_moot(session: Session, claim: Claim, account: Account) -> str | None:
    found = milestone_round(claim.dedupe_key)
    if not found:
        return None
    milestone = get_milestone(session, claim.team_id, found[0])
    if milestone is None or milestone.status in (MilestoneStatus.DONE, MilestoneStatus.SKIPPED):
        return f"milestone {milestone.status if milestone else 'gone'}"
    if found[1] < milestone.round:
        return "milestone snoozed"
    if claim.kind == "milestone_nudge" and claim.channel != account.channel_id:
        owners = {account.user_of(role) for role in milestone.owners}
        if claim.channel not in owners:
            return "no longer an owner"
    return None
