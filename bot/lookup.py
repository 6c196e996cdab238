"""Which account a person means: `#acct-acme`, a CRM id, a name, or the channel they are in."""

from __future__ import annotations

import asyncio
import re

from bot.services import Services
from storage.accounts import account_in_channel, search_accounts
from storage.models import Account

CHANNEL_MENTION = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")


async def find_accounts(
    services: Services, team_id: str, text: str, channel_id: str | None
) -> list[Account]:
    query = text.strip()
    engine = services.engine
    mention = CHANNEL_MENTION.match(query)
    if mention or not query:
        channel = mention.group(1) if mention else channel_id
        if not channel:
            return []
        account = await asyncio.to_thread(account_in_channel, engine, team_id, channel)
        return [account] if account else []
    return await asyncio.to_thread(search_accounts, engine, team_id, query.lstrip("#"))


def pick_list(accounts: list[Account], limit: int = 8) -> str:
    lines = [f"• *{a.name}* (CRM {a.crm_id})" for a in accounts[:limit]]
    more = f"\n…and {len(accounts) - limit} more." if len(accounts) > limit else ""
    return "\n".join(lines) + more
