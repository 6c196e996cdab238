"""When a renewal message has become moot: its milestone is done, skipped, snoozed past or
no longer the recipient's; an at-risk reminder for an account no longer flagged red."""

from __future__ import annotations

import re

from sqlmodel import Session

from flows.health import Health
from storage.milestones import get_milestone
from storage.models import Account, MilestoneStatus
from storage.outbox import Claim
from storage.renewals import cycle_flag

MILESTONE_KINDS = ("milestone_nudge", "milestone_escalation")
_ROUND = re.compile(r"^ms-(\d+)-r(\d+)-")


def milestone_round(dedupe_key: str) -> tuple[int, int] | None:
    """(milestone id, round) of a milestone nudge's or escalation's dedupe key."""
    found = _ROUND.match(dedupe_key)
    return (int(found.group(1)), int(found.group(2))) if found else None


def milestone_moot(session: Session, claim: Claim, account: Account) -> str | None:
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


def at_risk_moot(session: Session, claim: Claim, account: Account) -> str | None:
    flag = cycle_flag(session, claim.team_id, account.id, account.renewal_date)
    return None if flag is not None and flag.health == Health.RED else "no longer flagged red"
