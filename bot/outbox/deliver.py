"""Sending what the outbox owes, so that nothing is lost and nothing is sent twice.

Slack's chat.postMessage has no idempotency key, so the order of steps is the guarantee:
1. claim the row (status "sending", fresh token) and commit, before calling Slack;
2. call Slack outside any transaction, with a client that never retries on its own;
3. record the outcome only if our token still holds the row.
A 429 means Slack did not take the message: owe it again after Retry-After. A timeout or
5xx means we cannot know: the row becomes "unknown" and is never blindly resent. Every
message carries its outbox id in Slack message metadata, which is what makes an
"unknown" row checkable against the channel's history.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.outbox.faults import GIVE_UP_AFTER
from bot.platform.clock import Clock, system_clock
from bot.platform.slack_client import OverBudget, retry_after
from storage import outbox
from storage.db import Database
from storage.faults import FaultKey, record_fault
from storage.workspaces import pause_workspace, paused_workspaces

log = logging.getLogger(__name__)
METADATA_EVENT = "baton_outbox"
# Slack refuses the token itself: the workspace is paused, not the message failed.
TOKEN_REFUSED = frozenset(
    {"invalid_auth", "account_inactive", "token_revoked", "token_expired", "not_authed"}
)
# Refusals about where a message goes, not what it says (an archived channel, Baton removed
# from it, a deactivated person): held, and owed again once fixed (bot.channels.unreachable).
UNREACHABLE = frozenset(
    {"is_archived", "not_in_channel", "channel_not_found", "user_disabled", "user_not_found"}
)
# Slack is called for a claim no later than this after it was made; a claim still unsent by
# then (a slow batch) goes back to pending instead. With the client timeout this bounds when
# a claimed message can reach Slack, which reconciliation relies on (see bot.outbox.reconcile).
SEND_DEADLINE = timedelta(seconds=60)
BATCH = 200  # claimed at a time: sent well within SEND_DEADLINE at Slack's pace
LANES = 32  # channels sent to at once


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    retry_at: dict[int, datetime] = field(default_factory=dict)  # deferred id → when again

    def defer(self, claim_id: int, retry_at: datetime) -> datetime:
        self.deferred.append(claim_id)
        self.retry_at[claim_id] = retry_at
        return retry_at

    def settled(self) -> int:
        """How many messages reached an outcome other than "try again later"."""
        return sum(map(len, (self.sent, self.unknown, self.failed, self.cancelled, self.held)))


# Whether a claimed message is still owed: its reason may have gone away after it was
# planned (a reminder for a packet completed a second ago). Returns a reason to drop it.
Relevance = Callable[[Session, outbox.Claim], str | None]
# What a claimed message should really say and where it should go at the moment it is sent
# (a digest written now; someone away and covered by a backup): a changed claim, None to
# send it as it is, or a reason not to send it at all.
Route = Callable[[Session, outbox.Claim, datetime], outbox.Claim | str | None]
# Whether the message must wait (its channel can't take it right now, e.g. an internal
# channel someone shared outside the company): a reason to hold it, or None to send.
Guard = Callable[[outbox.Claim, datetime], Awaitable[str | None]]


@dataclass(frozen=True)
class Hold:
    reason: str


async def deliver_due(
    db: Database,
    client: AsyncWebClient,
    now: datetime,
    limit: int = BATCH,
    ids: list[int] | None = None,
    relevance: Relevance | None = None,
    route: Route | None = None,
    guard: Guard | None = None,
    *,
    clock: Clock | None = None,
    seconds: float | None = None,
) -> DeliveryReport:
    """Send what is due, batch after batch, until nothing due is left or `seconds` (with a
    `clock`, whose fresh time stamps each batch) are spent. Different channels are sent to
    at once, each channel's messages one after another in order; what the rate budget or
    Slack holds back waits for its turn, and a real clock's drain waits for it too while
    time remains."""
    report = DeliveryReport()
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        progress = await _deliver_batch(
            db, client, now, limit, ids, relevance, route, guard, report
        )
        if clock is not None:
            now = clock()
        if progress is None:  # nothing was due
            if not await _wait_for_more(db, now, clock, deadline):
                break
            now = clock() if clock is not None else now
        elif not progress or (deadline is not None and time.monotonic() >= deadline):
            break
    return report


async def _wait_for_more(
    db: Database, now: datetime, clock: Clock | None, deadline: float | None
) -> bool:
    """With time left on a real clock, wait for the next message to come due."""
    if clock is not system_clock or deadline is None:
        return False
    upcoming = await db.run(outbox.next_due)
    if upcoming is None:
        return False
    wait = max(0.0, (upcoming - now).total_seconds())
    if time.monotonic() + wait >= deadline:
        return False
    await asyncio.sleep(wait)
    return True


async def _deliver_batch(
    db: Database,
    client: AsyncWebClient,
    now: datetime,
    limit: int,
    ids: list[int] | None,
    relevance: Relevance | None,
    route: Route | None,
    guard: Guard | None,
    report: DeliveryReport,
) -> bool | None:
    """Claim one batch and send it: None if nothing was due, else whether anything was
    settled (sent, cancelled, held, failed or unknown) rather than only deferred."""
    started = time.monotonic()  # `now` must be fresh: claims are stamped with it
    paused, claims = await db.run(_claim, now, limit, ids, immediate=True)
    if not claims:
        return None
    before = report.settled()
    lanes: dict[tuple[str, str], list[outbox.Claim]] = {}
    for claim in claims:
        lanes.setdefault((claim.team_id, claim.channel), []).append(claim)
    gate = asyncio.Semaphore(LANES)
    step = _Step(db, client, now, started, relevance, route, guard, report, paused)

    async def lane(queue: list[outbox.Claim]) -> None:
        async with gate:
            for index, claim in enumerate(queue):
                retry_at = await step.deliver(claim)
                if retry_at is not None:  # the channel must wait: so must the rest of it
                    rest = queue[index + 1 :]
                    if rest:
                        await db.run(outbox.release_all, rest, retry_at, "waiting for its turn")
                    for later in rest:
                        report.defer(later.id, retry_at)
                    return

    await asyncio.gather(*(lane(queue) for queue in lanes.values()))
    return report.settled() > before


def _claim(
    session: Session, now: datetime, limit: int, ids: list[int] | None
) -> tuple[set[str], list[outbox.Claim]]:
    """The paused workspaces as they are now, and the claims of the others."""
    paused = {w.team_id for w in paused_workspaces(session)}
    return paused, outbox.claim_due(session, now, limit, ids, paused)


@dataclass
class _Step:
    """Everything one message's delivery needs, for the claims of one batch."""

    db: Database
    client: AsyncWebClient
    now: datetime
    started: float
    relevance: Relevance | None
    route: Route | None
    guard: Guard | None
    report: DeliveryReport
    paused: set[str]

    async def deliver(self, claim: outbox.Claim) -> datetime | None:
        """Deliver one claim; returns when its channel may go on, if it must wait."""
        db, now, report = self.db, self.now, self.report
        if claim.team_id in self.paused:  # Slack refused its token a moment ago
            return await _release(db, report, claim, now, "workspace paused")
        try:
            ready = await _prepare(db, claim, now, self.relevance, self.route, self.guard)
        except Exception as exc:  # this message's trouble only: it waits, the rest go on
            await _set_aside(db, claim, exc, now, report)
            return None
        if isinstance(ready, Hold):  # owed still; `bot.channels.unreachable` looks again
            await db.run(outbox.hold, claim, ready.reason, now)
            report.held.append(claim.id)
            return None
        if isinstance(ready, str):
            await db.run(outbox.mark_cancelled, claim, ready)
            report.cancelled.append(claim.id)
            return None
        if time.monotonic() - self.started > SEND_DEADLINE.total_seconds():
            return await _release(db, report, claim, now, "send deadline passed")
        return await deliver_claim(db, self.client, ready, now, report, self.paused)


async def _release(
    db: Database, report: DeliveryReport, claim: outbox.Claim, retry_at: datetime, error: str
) -> datetime:
    """Slack was not given it: owe it again from `retry_at` (and say so in the report)."""
    await db.run(outbox.release, claim, retry_at, error)
    return report.defer(claim.id, retry_at)


async def _prepare(
    db: Database,
    claim: outbox.Claim,
    now: datetime,
    relevance: Relevance | None,
    route: Route | None,
    guard: Guard | None,
) -> outbox.Claim | str | Hold:
    """The claim as it should go out now, the reason it should not go at all, or why it
    must wait."""
    if claim.expires_at is not None and claim.expires_at <= now:
        return "expired"
    if relevance is not None or route is not None:
        looked = await db.run(_looked_at, claim, now, relevance, route)
        if isinstance(looked, str):
            return looked
        if looked is not None and await db.run(outbox.redirect, claim, looked):
            claim = looked
    held = await guard(claim, now) if guard is not None else None
    return Hold(held) if held else claim


def _looked_at(
    session: Session,
    claim: outbox.Claim,
    now: datetime,
    relevance: Relevance | None,
    route: Route | None,
) -> outbox.Claim | str | None:
    """In one read: why the message is moot, else how and where it goes now (None: as it
    is)."""
    moot = relevance(session, claim) if relevance is not None else None
    if moot:
        return moot
    return route(session, claim, now) if route is not None else None


async def _set_aside(
    db: Database, claim: outbox.Claim, exc: Exception, now: datetime, report: DeliveryReport
) -> None:
    """Before Slack was called, something failed for this message: owe it again after a
    backoff (it was not sent, so retrying cannot double it); give up after many tries."""
    log.exception("preparing outbox %s of team %s failed", claim.id, claim.team_id)
    error = f"{type(exc).__name__}: {exc}"
    key = FaultKey(claim.team_id, "message", str(claim.id), "preparing")
    try:
        fault = await db.run(record_fault, key, error, now)
        if fault.count >= GIVE_UP_AFTER:
            await db.run(outbox.mark_failed, claim, error)
            report.failed.append(claim.id)
            return
        await db.run(outbox.release, claim, fault.retry_at, error)
    except Exception:  # the database itself: the claim's lease runs out, reconciling settles it
        log.exception("could not set outbox %s aside", claim.id)
        return
    report.defer(claim.id, fault.retry_at)


async def deliver_claim(
    db: Database,
    client: AsyncWebClient,
    claim: outbox.Claim,
    now: datetime,
    report: DeliveryReport,
    paused: set[str] | None = None,
) -> datetime | None:
    """Post one claimed message and record what Slack said; if it must be tried again,
    returns when. A refused token pauses the workspace (and, when given, adds it to
    `paused`)."""
    paused = set() if paused is None else paused
    try:
        response = await client.chat_postMessage(
            channel=claim.channel,
            text=claim.text,
            blocks=claim.blocks,
            thread_ts=claim.thread_ts,
            unfurl_links=False,
            metadata={"event_type": METADATA_EVENT, "event_payload": {"outbox_id": claim.id}},
        )
    except OverBudget as exc:  # not sent: Baton's rate budget says wait
        retry_at = now + timedelta(seconds=exc.wait)
        return await _release(db, report, claim, retry_at, "over the rate budget")
    except SlackApiError as exc:
        if str(exc.response.get("error")) in TOKEN_REFUSED:
            paused.add(claim.team_id)
        return await _record_refusal(db, claim, exc, now, report)
    except Exception as exc:  # a timeout, a dropped connection, anything: Slack may have it
        log.warning("outbox %s: %s while posting; reconciling decides", claim.id, exc)
        await db.run(outbox.mark_unknown, claim, type(exc).__name__)
        report.unknown.append(claim.id)
        return None
    try:
        recorded = await db.run(outbox.mark_sent, claim, response["channel"], response["ts"], now)
    except Exception:  # posted, not recorded: the lease runs out and reconciling finds it
        log.exception("outbox %s was posted but could not be recorded", claim.id)
        report.unknown.append(claim.id)
        return None
    if recorded:
        report.sent.append(claim.id)
    else:
        log.warning("outbox %s was sent but its claim was taken over meanwhile", claim.id)
    return None


async def _record_refusal(
    db: Database, claim: outbox.Claim, exc: SlackApiError, now: datetime, report: DeliveryReport
) -> datetime | None:
    status = exc.response.status_code
    error = str(exc.response.get("error") or f"http_{status}")
    if error in TOKEN_REFUSED:
        # Not this message's fault: the workspace waits (nothing is marked failed) until
        # the token works again (`bot.outbox.pause`).
        if await db.run(pause_workspace, claim.team_id, error, now):
            log.error("Slack refused the token of team %s (%s): delivery paused",
                      claim.team_id, error)  # fmt: skip
        return await _release(db, report, claim, now, error)
    if status == 429:
        retry_at = now + timedelta(seconds=retry_after(exc.response.headers))
        return await _release(db, report, claim, retry_at, error)
    if status >= 500 or error in (
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    ):
        await db.run(outbox.mark_unknown, claim, error)
        report.unknown.append(claim.id)
    elif error in UNREACHABLE:
        log.warning("outbox %s held: %s cannot be reached (%s)", claim.id, claim.channel, error)
        await db.run(outbox.hold, claim, error, now)
        report.held.append(claim.id)
    else:
        log.error("Slack refused outbox %s for %s: %s", claim.id, claim.channel, error)
        await db.run(outbox.mark_failed, claim, error)
        report.failed.append(claim.id)
    return None
