"""When a check-in prompt has become moot: the CSM already checked in this week."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from storage.checkins import checked_in_since
from storage.models import Account
from storage.outbox import Claim


def prompt_moot(session: Session, claim: Claim, account: Account) -> str | None:
    since = claim.due_at.date() - timedelta(days=6)
    if checked_in_since(session, claim.team_id, account.id, since):
        return "already checked in this week"
    return None
