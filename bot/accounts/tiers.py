"""Each account's tier in the playbook: its ARR's rank among its team's live accounts.

Ranking reads the whole team's ARRs, so a team's cutoffs serve for a few minutes
(`FRESH_FOR`, per process): a tick planning a large book in many batches ranks it once,
and `/baton owner` does not rank it again for each question."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache

from sqlmodel import Session

from bot.platform.services import Services
from flows.playbook import Tier, load_tiers
from flows.tiers import boundaries, tier_of
from storage.models import Account
from storage.tiers import tier_cutoffs

FRESH_FOR = timedelta(minutes=5)
_MEMO = "tier-cutoffs"


@cache
def playbook_tiers() -> tuple[Tier, ...]:
    return load_tiers()


def tiers_of(
    session: Session, services: Services, accounts: Sequence[Account], now: datetime
) -> dict[tuple[str, int], Tier]:
    """The tier of each account (none without tiers in the playbook): the cutoffs of the
    teams not ranked in the last FRESH_FOR come from one query, never one per account."""
    tiers = playbook_tiers()
    if not tiers or not accounts:
        return {}
    memo: dict[str, tuple[datetime, list[Decimal]]] = services.memo.setdefault(_MEMO, {})
    stale = {
        a.team_id
        for a in accounts
        if a.team_id not in memo or not timedelta(0) <= now - memo[a.team_id][0] < FRESH_FOR
    }
    if stale:
        for team, cutoffs in tier_cutoffs(session, stale, boundaries(tiers)).items():
            memo[team] = (now, cutoffs)
    found = {}
    for account in accounts:
        tier = tier_of(account.arr, memo[account.team_id][1], tiers)
        if tier is not None:
            found[account.team_id, account.id] = tier
    return found
