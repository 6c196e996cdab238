"""Signed CRM deliveries already taken, so that a replayed one is refused."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session

from storage.db import insert_for
from storage.models import WebhookReceipt

# A signature is only valid for five minutes; keep receipts a little longer than that.
KEEP = timedelta(minutes=10)


def first_receipt(session: Session, team_id: str, signature: str, now: datetime) -> bool:
    """Record a delivery by its signature: False if that signature was already taken."""
    statement = (
        insert_for(session)(WebhookReceipt)
        .values(team_id=team_id, signature=signature[:100], received_at=now)
        .on_conflict_do_nothing(index_elements=["team_id", "signature"])
        .returning(WebhookReceipt.id)
    )
    session.execute(delete(WebhookReceipt).where(WebhookReceipt.received_at < now - KEEP))
    return session.execute(statement).scalar() is not None


def forget_receipt(session: Session, team_id: str, signature: str) -> None:
    """The delivery could not be taken after all (an outage): let the CRM's retry in."""
    session.execute(
        delete(WebhookReceipt).where(
            WebhookReceipt.team_id == team_id, WebhookReceipt.signature == signature[:100]
        )
    )
