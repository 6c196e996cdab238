"""Whether a handoff message is still owed at the moment it would be sent."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from storage.accounts import get_account
from storage.checkins import checked_in_since
from storage.outbox import Claim


def moot_reason(engine: Engine, claim: Claim) -> str | None:
    if claim.account_id is None or claim.kind == "message":
        return None
    account = get_account(engine, claim.team_id, claim.account_id)
    if account is None:
        return "account gone"
    if claim.kind in ("gate_reminder", "gate_escalation") and account.packet_completed_at:
        return "packet completed"
    if claim.kind == "kickoff_reminder" and account.kickoff_held_at:
        return "kickoff held"
    if claim.kind == "checkin_prompt" and checked_in_since(
        engine, claim.team_id, account.id, claim.due_at.date() - timedelta(days=6)
    ):
        return "already checked in this week"
    return None
