"""Telling the features that an account's fields changed (a CRM update, a reassignment),
so that what follows from it (re-planning a cycle's owners) happens in the feature that
owns it, in the same unit as the change."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.platform.services import Services
from storage.models import Account


def account_changed(
    session: Session,
    services: Services,
    account: Account,
    changed: dict[str, tuple[object, object]],
    now: datetime,
) -> list[int]:
    """What the features do about it, in the caller's unit: the ids of what they owe, to
    deliver once it has committed."""
    owed: list[int] = []
    for react in services.hooks.account_changed:
        owed += react(session, services, account, changed, now)
    return owed
