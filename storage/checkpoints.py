"""Queries on the month-10 close checkpoint: the commercial owner's answer per cycle."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlmodel import Session

from storage.db import upsert
from storage.models import Account, CloseCheckpoint, CloseStatus


def close_checkpoint(
    session: Session, team_id: str, account_id: int, renewal_date: date
) -> CloseCheckpoint | None:
    return session.scalars(
        select(CloseCheckpoint).where(
            CloseCheckpoint.team_id == team_id,
            CloseCheckpoint.account_id == account_id,
            CloseCheckpoint.renewal_date == renewal_date,
        )
    ).first()


def save_close(
    session: Session,
    account: Account,
    status: CloseStatus,
    by: str,
    now: datetime,
    *,
    reason: str | None = None,
    expected_close: date | None = None,
) -> None:
    """Record this cycle's answer (a later answer replaces it)."""
    upsert(
        session,
        CloseCheckpoint,
        {
            "team_id": account.team_id,
            "account_id": account.id,
            "renewal_date": account.renewal_date,
            "status": status.value,
            "reason": reason,
            "expected_close": expected_close,
            "answered_by": by,
            "answered_at": now,
        },
        ["team_id", "account_id", "renewal_date"],
    )
