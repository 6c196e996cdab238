"""When a renewal message has become moot: its milestone is done, skipped, snoozed past or
no longer the recipient's; an at-risk reminder for an account no longer flagged red.

Which milestone and round a message belongs to is in its columns (`Claim.milestone_id`,
`Claim.round`), never read from its dedupe key."""

from __future__ import annotations

from sqlmodel import Session

from flows.health import Health
from storage.kinds import MessageKind
from storage.milestones import get_milestone
from storage.models import Account, MilestoneStatus
from storage.outbox import Claim
from storage.renewals import cycle_flag

MILESTONE_KINDS = (MessageKind.MILESTONE_NUDGE, MessageKind.MILESTONE_ESCALATION)
AT_RISK_KINDS = (MessageKind.AT_RISK_REMINDER,)
ACCOUNT_ROLES = ("ae", "csm", "am")


def milestone_moot(session: Session, claim: Claim, account: Account) -> str | None:
    if claim.milestone_id is None:
        return None
    milestone = get_milestone(session, claim.team_id, claim.milestone_id)
    if milestone is None or milestone.status in (MilestoneStatus.DONE, MilestoneStatus.SKIPPED):
        return f"milestone {milestone.status if milestone else 'gone'}"
    if claim.round is not None and claim.round < milestone.round:
        return "milestone snoozed"
    if claim.kind == MessageKind.MILESTONE_NUDGE and claim.channel != account.channel_id:
        owners = {account.user_of(role) for role in milestone.owners}
        if "ops" in milestone.owners and account.ops_user_id is None:
            # Until the account has an Ops person of its own, its Ops steps go to the CSM
            # or to the workspace's (BATON_OPS_USERS, not seen here: whoever holds no role
            # on the account).
            owners.add(account.csm_user_id)
            if claim.channel not in {account.user_of(role) for role in ACCOUNT_ROLES}:
                return None
        if claim.channel not in owners:
            return "no longer an owner"
    return None


def at_risk_moot(session: Session, claim: Claim, account: Account) -> str | None:
    flag = cycle_flag(session, claim.team_id, account.id, account.renewal_date)
    return None if flag is not None and flag.health == Health.RED else "no longer flagged red"
