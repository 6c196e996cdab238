"""Each account's tier in the playbook: its ARR's rank among its team's live accounts."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

from sqlmodel import Session

from flows.playbook import Tier, load_tiers
from flows.tiers import boundaries, tier_of
from storage.models import Account
from storage.tiers import tier_cutoffs


@cache
def playbook_tiers() -> tuple[Tier, ...]:
    return load_tiers()


def tiers_of(session: Session, accounts: Sequence[Account]) -> dict[tuple[str, int], Tier]:
    """The tier of each account (none without tiers in the playbook): one query for the
    cutoffs of every team among them, never one per account."""
    tiers = playbook_tiers()
    if not tiers or not accounts:
        return {}
    cutoffs = tier_cutoffs(session, {a.team_id for a in accounts}, boundaries(tiers))
    found = {}
    for account in accounts:
        tier = tier_of(account.arr, cutoffs.get(account.team_id, []), tiers)
        if tier is not None:
            found[account.team_id, account.id] = tier
    return found
