"""Account tiers: where an account's ARR ranks it among its team's live accounts."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from flows.playbook import Tier


def boundaries(tiers: Sequence[Tier]) -> list[int]:
    """The cumulative share (percent) at the bottom of each tier but the last."""
    cumulative, found = 0, []
    for tier in tiers[:-1]:
        cumulative += tier.share or 0
        found.append(cumulative)
    return found


def boundary_rank(live: int, share: int) -> int:
    """The rank (1 = the largest ARR) of the last account inside the top `share` percent."""
    return max(1, -(-live * share // 100))


def tier_of(arr: Decimal, cutoffs: Sequence[Decimal], tiers: Sequence[Tier]) -> Tier | None:
    """The first tier whose cutoff ARR the account reaches (ties go up), else the last.
    `cutoffs`: the ARR at each boundary, top first; None without tiers."""
    if not tiers:
        return None
    for tier, cutoff in zip(tiers, cutoffs, strict=False):
        if arr >= cutoff:
            return tier
    return tiers[-1]
