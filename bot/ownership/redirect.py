"""Messages owed to someone who is away go to their backup, marked as coverage.

Decided at the moment of sending, so everything already owed (nudges planned two weeks
ahead, escalations, reminders) follows a coverage window set up after it was planned.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlalchemy import Engine

from flows.ownership_args import BARE_USER_ID
from storage.models import Coverage
from storage.outbox import Claim
from storage.ownership import coverages_at

# Told to the person away themselves: never rerouted.
NOT_REROUTED = frozenset({"coverage"})
MAX_HOPS = 5  # a backup who is away too hands on to their own backup, this far at most


def follow(user_id: str, windows: dict[str, Coverage]) -> list[Coverage]:
    """The chain of windows from `user_id` to whoever is actually in (no loops)."""
    chain: list[Coverage] = []
    seen = {user_id}
    current = user_id
    while current in windows and len(chain) < MAX_HOPS:
        window = windows[current]
        if window.backup_user_id in seen:
            break
        chain.append(window)
        seen.add(window.backup_user_id)
        current = window.backup_user_id
    return chain


def active_chain(engine: Engine, team_id: str, user_id: str, at: datetime) -> list[Coverage]:
    windows = coverages_at(engine, team_id, at)  # the team's windows now: a handful
    return follow(user_id, windows)


def coverage_note(window: Coverage) -> str:
    return f"Covering for <@{window.user_id}> (away until {window.until:%a %d %b})"


def covered_route(engine: Engine, claim: Claim, now: datetime) -> Claim | None:
    if claim.kind in NOT_REROUTED or not BARE_USER_ID.match(claim.channel):
        return None
    chain = active_chain(engine, claim.team_id, claim.channel, now)
    if not chain:
        return None
    note = coverage_note(chain[0])
    blocks = claim.blocks
    if blocks:
        context = {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f":busts_in_silhouette: {note}"}],
        }
        blocks = [context, *blocks][:50]
    return replace(
        claim, channel=chain[-1].backup_user_id, text=f"{note}: {claim.text}", blocks=blocks
    )


def acting_for(engine: Engine, team_id: str, user_id: str, at: datetime) -> frozenset[str]:
    """`user_id` and everyone whose work they are covering at `at` (directly or down a
    chain): a backup may press the buttons of the nudges it receives."""
    windows = coverages_at(engine, team_id, at)
    return frozenset(
        {user_id}
        | {person for person in windows if follow(person, windows)[-1].backup_user_id == user_id}
    )
