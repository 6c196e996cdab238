"""When a handoff message has become moot: the packet is complete, the kickoff held."""

from __future__ import annotations

from sqlmodel import Session

from storage.kinds import MessageKind
from storage.models import Account
from storage.outbox import Claim

GATE_KINDS = (MessageKind.GATE_REMINDER, MessageKind.GATE_ESCALATION)
KICKOFF_KINDS = (MessageKind.KICKOFF_REMINDER,)


def gate_moot(_session: Session, _claim: Claim, account: Account) -> str | None:
    return "packet completed" if account.packet_completed_at else None


def kickoff_moot(_session: Session, _claim: Claim, account: Account) -> str | None:
    return "kickoff held" if account.kickoff_held_at else None
