"""The ARR cutoffs of the account tiers, per team."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlmodel import Session

from flows.tiers import boundary_rank
from storage.models import Account, AccountStatus


def tier_cutoffs(
    session: Session, team_ids: Collection[str], shares: Sequence[int]
) -> dict[str, list[Decimal]]:
    """For each team, the ARR of the account at each cumulative share of its live accounts
    (ranked by ARR, largest first): one query for any number of teams, which returns only
    the boundary accounts."""
    if not team_ids or not shares:
        return {team: [] for team in team_ids}
    rows = session.execute(_boundaries(tuple(shares)), {"teams": list(set(team_ids))}).all()
    by_rank = {(row.team_id, row.arr_rank): Decimal(row.arr) for row in rows}
    lives = {row.team_id: row.live for row in rows}
    return {
        team: [by_rank[team, boundary_rank(lives[team], share)] for share in shares]
        if team in lives
        else []
        for team in team_ids
    }


@cache
def _boundaries(shares: tuple[int, ...]) -> Any:
    """`tier_cutoffs`' statement for the playbook's shares, built once, the teams a
    parameter."""
    ranked = (
        select(
            Account.team_id,
            Account.arr,
            func.row_number()
            .over(partition_by=Account.team_id, order_by=(Account.arr.desc(), Account.id))
            .label("arr_rank"),
            func.count().over(partition_by=Account.team_id).label("live"),
        )
        .where(
            Account.team_id.in_(bindparam("teams", expanding=True)),
            Account.status != AccountStatus.CHURNED,
        )
        .subquery()
    )
    # The boundary rank, ceil(live × share / 100), in integer arithmetic.
    at_boundary = [ranked.c.arr_rank == (ranked.c.live * share + 99) // 100 for share in shares]
    return select(ranked.c.team_id, ranked.c.arr, ranked.c.arr_rank, ranked.c.live).where(
        or_(*at_boundary)
    )
