"""Slack's rate limits, counted in the database so that every replica shares one count.

Each limit is a GCRA bucket: one number, when the next request is due at the steady pace.
A request may come `tolerance` seconds ahead of that (the burst) and pushes it on by one
`interval`. A request that needs several limits (a post: the channel's and the
workspace's) takes all of them or none, under row locks, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from storage.db import insert_for, require_write_lock
from storage.models import RateBucket


@dataclass(frozen=True)
class Limit:
    key: str
    interval: float  # seconds between requests at the steady pace
    tolerance: float  # how far ahead of the pace one may come


EPSILON = 1e-3  # epoch seconds summed one interval at a time: float error, not a wait


def wait_for(next_at: float, limit: Limit, now: float) -> float:
    """Seconds until a request fits this limit (0: it fits now)."""
    wait = next_at - limit.tolerance - now
    return wait if wait > min(EPSILON, limit.interval / 100) else 0.0


def admit(next_at: dict[str, float], limits: Sequence[Limit], now: float) -> float:
    """Take one request from every limit and return 0, or take none and return how long
    until all of them would allow it. `next_at` (key → when) is updated in place."""
    wait = max(wait_for(next_at.get(limit.key, 0.0), limit, now) for limit in limits)
    if wait > 0:
        return wait
    for limit in limits:
        next_at[limit.key] = max(next_at.get(limit.key, 0.0), now) + limit.interval
    return 0.0


def take(session: Session, team_id: str, limits: Sequence[Limit], now: float) -> float:
    """`admit` against the rows of this workspace's limits, under row locks."""
    require_write_lock(session)
    keys = sorted({limit.key for limit in limits})  # one lock order for every process
    session.execute(
        insert_for(session)(RateBucket)
        .values([{"team_id": team_id, "key": key, "next_at": 0.0} for key in keys])
        .on_conflict_do_nothing(index_elements=["team_id", "key"])
    )
    rows = {
        row.key: row
        for row in session.scalars(
            select(RateBucket)
            .where(RateBucket.team_id == team_id, RateBucket.key.in_(keys))
            .order_by(RateBucket.key)
            .with_for_update()
        )
    }
    next_at = {key: row.next_at for key, row in rows.items()}
    wait = admit(next_at, limits, now)
    for key, row in rows.items():
        row.next_at = next_at[key]
    session.flush()
    return wait


def hold_off(session: Session, team_id: str, key: str, next_at: float) -> None:
    """Slack said to wait (Retry-After): this key's next request is due no sooner than
    `next_at`."""
    statement = insert_for(session)(RateBucket).values(team_id=team_id, key=key, next_at=next_at)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["team_id", "key"],
            set_={"next_at": statement.excluded.next_at},
            where=RateBucket.next_at < statement.excluded.next_at,
        )
    )
