"""The account a button or modal points at, and refusing politely when it can't be used."""

from __future__ import annotations

from typing import Any

from bot.platform.refusal import Refusal as Refusal
from bot.platform.services import Services
from flows.bounds import record_id
from storage.accounts import get_account
from storage.models import Account


async def load_account(services: Services, team_id: str, account_id: Any) -> Account:
    key = record_id(account_id)  # refused before the database sees it (SQLite: OverflowError)
    if key is None:
        raise Refusal("That button no longer points at an account.")
    account = await services.db.run(get_account, team_id, key)
    if account is None:
        raise Refusal("That account no longer exists in Baton.")
    return account
