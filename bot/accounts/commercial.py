"""Who owns an account's renewal (commercial side) under its model, as a role name."""

from __future__ import annotations

from bot.platform.services import Services
from flows.renewal import commercial_owner
from flows.retention import RetentionModel
from storage.models import Account


def commercial_role(services: Services, account: Account) -> str:
    return commercial_owner(
        RetentionModel(account.retention_model),
        account.arr,
        services.settings.baton_arr_threshold,
        has_am=bool(account.am_user_id or account.am_email),
    )
