"""Settling messages whose fate at Slack is unknown, so none is lost and none sent twice.

chat.postMessage has no idempotency key, so a timeout, a 5xx, or a worker killed between
calling Slack and recording the answer leaves a message that Slack may or may not have.
Every message Baton posts carries its outbox id in message metadata; before anything is
sent again, the channel (or thread) is read back: if a message with that id is there, the
row is recorded as sent with that ts; only if it is certainly not there is the row owed
again (pending, due now), and delivery sends it under a fresh claim.

When "not there" is certain. A row is only ever posted under the claim whose time it keeps
(`claimed_at`; reading it back claims the row too, but leaves that time alone):
- Delivery calls Slack no later than SEND_DEADLINE after the claim (a claim it has not
  started by then goes back to pending), and the call gives up after the client timeout;
  SLACK_SETTLE allows for Slack finishing a request we stopped waiting for. So Slack has
  stamped the message by claimed_at + SEND_LEASE (the sum of the three), or never will.
- The read covers [claimed_at - CLOCK_MARGIN, claimed_at + SEND_LEASE + CLOCK_MARGIN], every
  page of it (cursor by cursor); the margin absorbs the gap between Slack's clock, which
  stamps the ts, and ours.
- "Not there" is concluded only from a read of the whole window that began once our clock
  passed claimed_at + SEND_LEASE. A slow post cannot land after such a read: it would have
  had to land before the lease ran out, inside the window. A read that finds nothing
  sooner leaves the row unknown until then.
- A read that fails (an error, a 429, a timeout) or would take more than MAX_PAGES pages
  leaves the row unknown, to be read again after a pause that grows with its age (or after
  Retry-After); nothing is concluded from part of a window.

Reads are rationed: conversations.history and .replies are Tier 3 (about 50 a minute per
workspace). A pass makes at most READS_PER_PASS calls, reads each conversation's window once
for all the rows in it, and makes no further call after a 429. The reads go through the
outbox's client, which never retries by itself: a tick never sleeps out a Retry-After.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.outbox.deliver import METADATA_EVENT, SEND_DEADLINE
from bot.outbox.faults import isolated
from bot.platform.services import Services
from bot.platform.slack_client import DEFAULT_TIMEOUT_S, retry_after
from bot.platform.slack_ids import is_person
from storage import outbox
from storage.faults import FaultKey

log = logging.getLogger(__name__)
SLACK_SETTLE = timedelta(seconds=50)
SEND_LEASE = SEND_DEADLINE + timedelta(seconds=DEFAULT_TIMEOUT_S) + SLACK_SETTLE  # 2 minutes
# Slack's clock and ours may differ a little (signed requests allow 5 minutes too).
CLOCK_MARGIN = timedelta(minutes=5)
HOLD = timedelta(minutes=5)  # how long a reconciler keeps the rows it is reading back
WINDOW_SPAN = timedelta(minutes=1)  # rows claimed this close together share one read
PAGE_SIZE = 200  # what Slack recommends per page
MAX_PAGES = 15
READS_PER_PASS = 20
PAUSE_MIN = timedelta(seconds=30)
PAUSE_MAX = timedelta(minutes=15)


@dataclass
class ReconcileReport:
    found: list[int] = field(default_factory=list)  # in Slack: recorded as sent
    released: list[int] = field(default_factory=list)  # certainly not in Slack: owed again
    undecided: list[int] = field(default_factory=list)  # still unknown: asked again later


class Unreadable(Exception):
    """The window could not be read whole; `wait` is when to try again, if Slack said."""

    def __init__(self, reason: str, wait: timedelta | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


@dataclass
class _Rations:
    left: int = READS_PER_PASS
    rate_limited: timedelta | None = None  # Slack said wait: no more reads this pass

    async def call(self, method: Callable[..., Awaitable[Any]], **args: Any) -> Any:
        if self.rate_limited is not None:
            raise Unreadable("ratelimited", self.rate_limited)
        if self.left <= 0:
            raise Unreadable("this pass's reads are spent", timedelta(0))
        self.left -= 1
        try:
            return await method(**args)
        except SlackApiError as exc:
            status = exc.response.status_code
            if status == 429:
                self.rate_limited = timedelta(seconds=retry_after(exc.response.headers))
                raise Unreadable("ratelimited", self.rate_limited) from None
            raise Unreadable(str(exc.response.get("error") or f"http_{status}")) from None
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Unreadable(type(exc).__name__) from None


async def reconcile(
    services: Services, now: datetime, skip_teams: Collection[str] = ()
) -> ReconcileReport:
    """Read back what may or may not be in Slack (not for paused workspaces: their rows
    wait, held as they are, for the token to work again)."""
    report = ReconcileReport()
    if not await services.db.run(outbox.any_uncertain, now, now - SEND_LEASE):
        return report
    claims = await services.db.run(
        outbox.reclaim_uncertain, now, now - SEND_LEASE, now + HOLD, immediate=True
    )
    rations = _Rations()
    for group in _groups([c for c in claims if c.team_id not in skip_teams]):
        # A group's own trouble (not Slack's answer: a bad row) stays with it: its rows are
        # held by the reclaim for HOLD and read again then.
        first = group[0]
        key = FaultKey(first.team_id, "message", str(first.id), "reconciling")
        await isolated(services, key, _settle(services, group, now, rations, report), now)
    return report


def _groups(claims: list[outbox.Claim]) -> list[list[outbox.Claim]]:
    """Rows read back together: the same conversation, claimed close together."""
    by_place: dict[tuple[str, str | None], list[outbox.Claim]] = defaultdict(list)
    for claim in claims:
        by_place[(claim.channel, claim.thread_ts)].append(claim)
    return [group for rows in by_place.values() for group in _close_together(rows)]


def _close_together(rows: list[outbox.Claim]) -> list[list[outbox.Claim]]:
    groups: list[list[outbox.Claim]] = []
    for row in sorted(rows, key=_claimed):
        if groups and _claimed(row) - _claimed(groups[-1][0]) <= WINDOW_SPAN:
            groups[-1].append(row)
        else:
            groups.append([row])
    return groups


def _claimed(claim: outbox.Claim) -> datetime:
    return claim.claimed_at or claim.due_at


async def _settle(
    services: Services,
    group: list[outbox.Claim],
    now: datetime,
    rations: _Rations,
    report: ReconcileReport,
) -> None:
    db = services.db
    try:
        posted = await _read_back(services, group, rations)
    except Unreadable as exc:
        for claim in group:
            at = _next_check(claim, now, exc.wait)
            await db.run(outbox.recheck_later, claim, at, f"reconcile: {exc.reason}")
            report.undecided.append(claim.id)
        return
    for claim in group:
        if claim.id in posted:
            channel, ts = posted[claim.id]
            if await db.run(outbox.mark_sent, claim, channel, ts, now):
                report.found.append(claim.id)
        elif now >= _claimed(claim) + SEND_LEASE:
            log.info("outbox %s never reached Slack; it is owed again", claim.id)
            if await db.run(outbox.release, claim, now, "not in Slack"):
                report.released.append(claim.id)
        else:  # the post may still be landing: only a read after the lease can say "no"
            at = _claimed(claim) + SEND_LEASE
            await db.run(outbox.recheck_later, claim, at, "not in Slack yet")
            report.undecided.append(claim.id)


def _next_check(claim: outbox.Claim, now: datetime, wait: timedelta | None) -> datetime:
    if wait is not None:
        return now + wait
    return now + min(max((now - _claimed(claim)) / 2, PAUSE_MIN), PAUSE_MAX)


async def _read_back(
    services: Services, group: list[outbox.Claim], rations: _Rations
) -> dict[int, tuple[str, str]]:
    """Where each of these rows is in Slack (channel, ts), from every page of their window;
    a row not in the answer is not in the window."""
    first = group[0]
    channel = await _conversation(services, first.channel, rations)
    oldest = min(map(_claimed, group)) - CLOCK_MARGIN
    latest = max(map(_claimed, group)) + SEND_LEASE + CLOCK_MARGIN
    read = services.sender.conversations_history
    args: dict[str, Any] = {
        "channel": channel,
        "oldest": f"{oldest.timestamp():.6f}",
        "latest": f"{latest.timestamp():.6f}",
        "inclusive": True,
        "limit": PAGE_SIZE,
        "include_all_metadata": True,
    }
    if first.thread_ts:
        read = services.sender.conversations_replies
        args["ts"] = first.thread_ts
    wanted = {claim.id for claim in group}
    found: dict[int, tuple[str, str]] = {}
    cursor = None
    for _ in range(MAX_PAGES):
        page = await rations.call(read, **args, cursor=cursor)
        for message in page.get("messages", []):
            if (outbox_id := _outbox_id(message)) in wanted:
                found[outbox_id] = (channel, message["ts"])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if found.keys() == wanted:
            return found
        if cursor is None:
            if page.get("has_more"):
                raise Unreadable("has_more without a cursor")
            return found
    raise Unreadable(f"more than {MAX_PAGES} pages")


async def _conversation(services: Services, target: str, rations: _Rations) -> str:
    """The channel id to read: a message posted to a user id lives in the app's DM."""
    if not is_person(target):
        return target
    known = services.memo.setdefault("dm_channels", {})  # a DM's id never changes
    if target not in known:
        opened = await rations.call(services.sender.conversations_open, users=target)
        known[target] = opened["channel"]["id"]
    return known[target]


def _outbox_id(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    value = (metadata.get("event_payload") or {}).get("outbox_id")
    return value if isinstance(value, int) else None
