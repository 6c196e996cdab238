"""Whether an owed message is still worth sending at the moment it would be sent
(a reminder for a packet completed a second ago, a nudge for a milestone already done).

A message about an account that is gone or churned is moot whatever its kind; beyond that,
each kind's own rule is the feature's (registered in `Hooks.relevance`)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import Session

from bot.platform.hooks import Hooks
from storage.accounts import get_account
from storage.kinds import MessageKind
from storage.models import AccountStatus
from storage.outbox import Claim


def moot_reason(hooks: Hooks) -> Callable[[Session, Claim], str | None]:
    def relevance(session: Session, claim: Claim) -> str | None:
        if claim.account_id is None or claim.kind == MessageKind.MESSAGE:
            return None
        account = get_account(session, claim.team_id, claim.account_id)
        if account is None:
            return "account gone"
        if account.status == AccountStatus.CHURNED:
            return "account churned"
        rule = hooks.relevance.get(claim.kind)
        return rule(session, claim, account) if rule is not None else None

    return relevance
