"""Signed CRM deliveries already taken, so that a replayed one is refused."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session

from storage.db import insert_for
from storage.models import WebhookReceipt

# A signature is only valid for five minutes; keep receipts a little longer than that.
KEEP = timedelta(minutes=10)


def first_receipts(
    session: Session, deliveries: list[tuple[str, str]], now: datetime
) -> list[bool]:
    """Record deliveries by their (team, signature), in one statement: whether each was
    taken now, in their order (False: a replay; of one signature twice, the first counts)."""
    session.execute(delete(WebhookReceipt).where(WebhookReceipt.received_at < now - KEEP))
    if not deliveries:
        return []
    table = WebhookReceipt.__table__
    statement = (
        insert_for(session)(table)
        .on_conflict_do_nothing(index_elements=["team_id", "signature"])
        .returning(table.c.team_id, table.c.signature)
    )
    keys = [(team_id, signature[:100]) for team_id, signature in deliveries]
    rows = [{"team_id": t, "signature": s, "received_at": now} for t, s in keys]
    new = {(team, signature) for team, signature in session.execute(statement, rows)}
    taken = []
    for key in keys:
        taken.append(key in new)
        new.discard(key)
    return taken


def forget_receipt(session: Session, team_id: str, signature: str) -> None:
    """The delivery could not be taken after all (an outage): let the CRM's retry in."""
    session.execute(
        delete(WebhookReceipt).where(
            WebhookReceipt.team_id == team_id, WebhookReceipt.signature == signature[:100]
        )
    )
