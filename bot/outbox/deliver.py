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

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlmodel import Session

from bot.outbox.faults import GIVE_UP_AFTER
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
DEFAULT_RETRY_AFTER_S = 30
# Refusals about where a message goes, not what it says (an archived channel, Baton removed
# from it, a deactivated person): held, and owed again once fixed (bot.channels.unreachable).
UNREACHABLE = frozenset(
    {"is_archived", "not_in_channel", "channel_not_found", "user_disabled", "user_not_found"}
)
# Slack is called for a claim no later than this after it was made; a claim still unsent by
# then (a slow batch) goes back to pending instead. With the client timeout this bounds when
# a claimed message can reach Slack, which reconciliation relies on (see bot.outbox.reconcile).
SEND_DEADLINE = timedelta(seconds=60)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    held: list[int] = field(default_factory=list)
    retry_at: dict[int, datetime] = field(default_factory=dict)  # deferred id → when again


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
    limit: int = 50,
    ids: list[int] | None = None,
    relevance: Relevance | None = None,
    route: Route | None = None,
    guard: Guard | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    started = time.monotonic()  # `now` must be fresh: claims are stamped with it
    paused = {w.team_id for w in await db.run(paused_workspaces)}
    claims = await db.run(outbox.claim_due, now, limit, ids, paused, immediate=True)
    for claim in claims:
        if claim.team_id in paused:  # Slack refused its token a moment ago: hold the rest
            await db.run(outbox.release, claim, now, "workspace paused")
            report.deferred.append(claim.id)
            report.retry_at[claim.id] = now
            continue
        try:
            ready = await _prepare(db, claim, now, relevance, route, guard)
        except Exception as exc:  # this message's trouble only: it waits, the rest go on
            await _set_aside(db, claim, exc, now, report)
            continue
        if isinstance(
            ready, Hold
        ):  # owed still; `bot.channels.unreachable` looks at the channel again
            await db.run(outbox.hold, claim, ready.reason, now)
            report.held.append(claim.id)
            continue
        if isinstance(ready, str):
            await db.run(outbox.mark_cancelled, claim, ready)
            report.cancelled.append(claim.id)
            continue
        if time.monotonic() - started > SEND_DEADLINE.total_seconds():
            await db.run(outbox.release, claim, now, "send deadline passed")
            report.deferred.append(claim.id)
            report.retry_at[claim.id] = now
            continue
        await deliver_claim(db, client, ready, now, report, paused)
    return report


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
    moot = await db.run(relevance, claim) if relevance is not None else None
    if moot:
        return moot
    if route is not None:
        rerouted = await db.run(route, claim, now)
        if isinstance(rerouted, str):
            return rerouted
        if rerouted is not None and await db.run(outbox.redirect, claim, rerouted):
            claim = rerouted
    held = await guard(claim, now) if guard is not None else None
    return Hold(held) if held else claim


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
    report.deferred.append(claim.id)
    report.retry_at[claim.id] = fault.retry_at


async def deliver_claim(
    db: Database,
    client: AsyncWebClient,
    claim: outbox.Claim,
    now: datetime,
    report: DeliveryReport,
    paused: set[str] | None = None,
) -> None:
    """Post one claimed message and record what Slack said. A refused token pauses the
    workspace (and, when given, adds it to `paused`)."""
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
    except SlackApiError as exc:
        await _record_refusal(db, claim, exc, now, report)
        if str(exc.response.get("error")) in TOKEN_REFUSED:
            paused.add(claim.team_id)
        return
    except Exception as exc:  # a timeout, a dropped connection, anything: Slack may have it
        log.warning("outbox %s: %s while posting; reconciling decides", claim.id, exc)
        await db.run(outbox.mark_unknown, claim, type(exc).__name__)
        report.unknown.append(claim.id)
        return
    try:
        recorded = await db.run(outbox.mark_sent, claim, response["channel"], response["ts"], now)
    except Exception:  # posted, not recorded: the lease runs out and reconciling finds it
        log.exception("outbox %s was posted but could not be recorded", claim.id)
        report.unknown.append(claim.id)
        return
    if recorded:
        report.sent.append(claim.id)
    else:
        log.warning("outbox %s was sent but its claim was taken over meanwhile", claim.id)


def retry_after(headers: Any) -> int:
    """Slack's Retry-After in seconds (a missing or odd header: a cautious default)."""
    try:
        wait = int(str(headers.get("Retry-After", DEFAULT_RETRY_AFTER_S)).strip())
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER_S
    return min(max(wait, 1), 3600)


async def _record_refusal(
    db: Database, claim: outbox.Claim, exc: SlackApiError, now: datetime, report: DeliveryReport
) -> None:
    status = exc.response.status_code
    error = str(exc.response.get("error") or f"http_{status}")
    if error in TOKEN_REFUSED:
        # Not this message's fault: the workspace waits (nothing is marked failed) until
        # the token works again (`bot.outbox.pause`).
        if await db.run(pause_workspace, claim.team_id, error, now):
            log.error("Slack refused the token of team %s (%s): delivery paused",
                      claim.team_id, error)  # fmt: skip
        await db.run(outbox.release, claim, now, error)
        report.deferred.append(claim.id)
        report.retry_at[claim.id] = now
    elif status == 429:
        retry_at = now + timedelta(seconds=retry_after(exc.response.headers))
        await db.run(outbox.release, claim, retry_at, error)
        report.deferred.append(claim.id)
        report.retry_at[claim.id] = retry_at
    elif status >= 500 or error in (
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
