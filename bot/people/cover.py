"""Messages owed to someone who is away go to their backup, marked as coverage.

Decided at the moment of sending, so everything already owed (nudges planned two weeks
ahead, escalations, reminders) follows a coverage window set up after it was planned.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from flows.ownership_args import BARE_USER_ID
from storage.accounts import get_account
from storage.kinds import MessageKind
from storage.models import Account, Coverage
from storage.outbox import Claim
from storage.ownership import coverages_at
from storage.people import deactivated_among

# Told to the person away themselves: never rerouted.
NOT_REROUTED = frozenset({MessageKind.COVERAGE})
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


def active_chain(session: Session, team_id: str, user_id: str, at: datetime) -> list[Coverage]:
    windows = coverages_at(session, team_id, at)  # the team's windows now: a handful
    return follow(user_id, windows)


def coverage_note(window: Coverage) -> str:
    return f"Covering for <@{window.user_id}> (away until {window.until:%a %d %b})"


def covered_route(session: Session, claim: Claim, now: datetime) -> Claim | None:
    if claim.kind in NOT_REROUTED or not BARE_USER_ID.match(claim.channel):
        return None
    chain = active_chain(session, claim.team_id, claim.channel, now)
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


def acting_for(session: Session, team_id: str, user_id: str, at: datetime) -> frozenset[str]:
    """`user_id` and everyone whose work they are covering at `at` (directly or down a
    chain): a backup may press the buttons of the nudges it receives."""
    windows = coverages_at(session, team_id, at)
    return frozenset(
        {user_id}
        | {person for person in windows if follow(person, windows)[-1].backup_user_id == user_id}
    )


def stand_in_for(
    managers: frozenset[str], account: Account | None, user_id: str, gone: set[str]
) -> str | None:
    """Who receives what a deactivated person was owed: the account's manager, else one
    of the BATON_MANAGERS people (none deactivated, never the person themselves)."""
    candidates = [account.manager_user_id] if account and account.manager_user_id else []
    candidates += sorted(managers)
    return next((c for c in candidates if c and c != user_id and c not in gone), None)


def deactivated_route(
    session: Session, claim: Claim, managers: frozenset[str]
) -> Claim | str | None:
    """At send time: a message owed to a deactivated person goes to their stand-in (the
    cover chain is followed first, see `covered_route`)."""
    if claim.kind in NOT_REROUTED or not BARE_USER_ID.match(claim.channel):
        return None
    if not deactivated_among(session, claim.team_id, {claim.channel}):
        return None  # the usual case: one indexed look-up
    account = get_account(session, claim.team_id, claim.account_id) if claim.account_id else None
    candidates = {claim.channel} | set(managers)
    if account and account.manager_user_id:
        candidates.add(account.manager_user_id)
    gone = deactivated_among(session, claim.team_id, candidates)
    stand_in = stand_in_for(managers, account, claim.channel, gone)
    if stand_in is None:
        return "recipient deactivated in Slack, nobody to stand in"
    note = f"For <@{claim.channel}>, whose Slack account is deactivated"
    blocks = claim.blocks
    if blocks:
        context = {"type": "context", "elements": [{"type": "mrkdwn", "text": f":warning: {note}"}]}
        blocks = [context, *blocks][:50]
    return replace(claim, channel=stand_in, text=f"{note}: {claim.text}", blocks=blocks)
