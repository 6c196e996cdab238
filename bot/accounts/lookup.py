"""Which account a person means: `#acct-acme`, a CRM id, a name, or the channel they are in."""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process, utils
from sqlmodel import Session

from bot.platform.kit import esc
from bot.platform.services import Services
from storage.accounts import account_in_channel, accounts_by_ids, search_accounts
from storage.models import Account
from storage.names import names_sharing_pieces

CHANNEL_MENTION = re.compile(r"^<#([A-Z0-9]+)(?:\|[^>]*)?>$")


async def find_accounts(
    services: Services, team_id: str, text: str, channel_id: str | None
) -> list[Account]:
    return await services.db.run(accounts_meant, team_id, text, channel_id)


def accounts_meant(
    session: Session, team_id: str, text: str, channel_id: str | None
) -> list[Account]:
    """The accounts `text` may mean (the channel's own when it names none): a storage read,
    for a unit of work of the caller's."""
    query = text.strip()
    mention = CHANNEL_MENTION.match(query)
    if mention or not query:
        channel = mention.group(1) if mention else channel_id
        if not channel:
            return []
        account = account_in_channel(session, team_id, channel)
        return [account] if account else []
    return search_accounts(session, team_id, query.lstrip("#"))


def which_account(text: str, accounts: list[Account], usage: str) -> str:
    """Why `text` did not name exactly one account, in one sentence (and a pick list)."""
    if not text.strip():
        return (
            f"Which account? Run `{esc(usage)}` (a name, CRM id or #channel), "
            "or run it inside the account's channel."
        )
    if not accounts:
        return f"I found no account matching {quoted(text)}. Try its name or CRM id."
    return f"Several accounts match {quoted(text)}; say which:\n{pick_list(accounts)}"


def quoted(text: str) -> str:
    """What the person typed, echoed back in quotes (shortened, and shown as typed)."""
    return f"“{esc(text.strip()[:80])}”"


def pick_list(accounts: list[Account], limit: int = 8) -> str:
    lines = [f"• *{esc(a.name)}* (CRM {esc(a.crm_id)})" for a in accounts[:limit]]
    more = f"\n…and {len(accounts) - limit} more." if len(accounts) > limit else ""
    return "\n".join(lines) + more


CLOSEST = 5
CLOSE_ENOUGH = 60  # rapidfuzz WRatio, 0–100


def closest_accounts(
    session: Session, team_id: str, text: str, limit: int = CLOSEST
) -> list[Account]:
    """The accounts whose names are nearest to a query that matched none (typos): the
    names sharing the most pieces of it (storage.names), scored."""
    query = utils.default_process(text.strip().lstrip("#"))
    names = names_sharing_pieces(session, team_id, query.split())
    best = process.extract(
        query,
        dict(names),
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        limit=limit,
        score_cutoff=CLOSE_ENOUGH,
    )
    return accounts_by_ids(session, team_id, [key for _name, _score, key in best])
