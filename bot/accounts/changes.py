"""Telling the features that an account's fields changed (a CRM update, a reassignment),
so that what follows from it (re-planning a cycle's owners) happens in the feature that
owns it."""

from __future__ import annotations

from bot.platform.services import Services
from storage.models import Account


async def account_changed(
    services: Services, account: Account, changed: dict[str, tuple[object, object]]
) -> None:
    for react in services.hooks.account_changed:
        await react(services, account, changed)
