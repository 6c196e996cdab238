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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from storage import outbox

log = logging.getLogger(__name__)
METADATA_EVENT = "baton_outbox"
DEFAULT_RETRY_AFTER_S = 30
# Slack is called for a claim no later than this after it was made; a claim still unsent by
# then (a slow batch) goes back to pending instead. With the client timeout this bounds when
# a claimed message can reach Slack, which reconciliation relies on (see bot.reconcile).
SEND_DEADLINE = timedelta(seconds=60)


@dataclass
class DeliveryReport:
    sent: list[int] = field(default_factory=list)
    deferred: list[int] = field(default_factory=list)
    unknown: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    retry_at: dict[int, datetime] = field(default_factory=dict)  # deferred id → when again


# Whether a claimed message is still owed: its reason may have gone away after it was
# planned (a reminder for a packet completed a second ago). Returns a reason to drop it.
Relevance = Callable[[Engine, outbox.Claim], str | None]
# What a claimed message should really say and where it should go at the moment it is sent
# (a digest written now; someone away and covered by a backup): a changed claim, None to
# send it as it is, or a reason not to send it at all.
Route = Callable[[Engine, outbox.Claim, datetime], outbox.Claim | str | None]


async def deliver_due(
    engine: Engine,
    client: AsyncWebClient,
    now: datetime,
    limit: int = 50,
    ids: list[int] | None = None,
    relevance: Relevance | None = None,
    route: Route | None = None,
) -> DeliveryReport:
    report = DeliveryReport()
    started = time.monotonic()  # `now` must be fresh: claims are stamped with it
    claims = await asyncio.to_thread(outbox.claim_due, engine, now, limit, ids)
    for claim in claims:
        moot = "expired" if claim.expires_at is not None and claim.expires_at <= now else None
        if moot is None and relevance is not None:
            moot = await asyncio.to_thread(relevance, engine, claim)
        if moot:
            await asyncio.to_thread(outbox.mark_cancelled, engine, claim, moot)
            report.cancelled.append(claim.id)
            continue
        if route is not None:
            rerouted = await asyncio.to_thread(route, engine, claim, now)
            if isinstance(rerouted, str):
                await asyncio.to_thread(outbox.mark_cancelled, engine, claim, rerouted)
                report.cancelled.append(claim.id)
                continue
            if rerouted is not None and await asyncio.to_thread(
                outbox.redirect, engine, claim, rerouted
            ):
                claim = rerouted
        if time.monotonic() - started > SEND_DEADLINE.total_seconds():
            await asyncio.to_thread(outbox.release, engine, claim, now, "send deadline passed")
            report.deferred.append(claim.id)
            report.retry_at[claim.id] = now
            continue
        await deliver_claim(engine, client, claim, now, report)
    return report


async def deliver_claim(
    engine: Engine,
    client: AsyncWebClient,
    claim: outbox.Claim,
    now: datetime,
    report: DeliveryReport,
) -> None:
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
        await _record_refusal(engine, claim, exc, now, report)
        return
    except (TimeoutError, aiohttp.ClientError) as exc:
        await asyncio.to_thread(outbox.mark_unknown, engine, claim, type(exc).__name__)
        report.unknown.append(claim.id)
        return
    recorded = await asyncio.to_thread(
        outbox.mark_sent, engine, claim, response["channel"], response["ts"], now
    )
    if recorded:
        report.sent.append(claim.id)
    else:
        log.warning("outbox %s was sent but its claim was taken over meanwhile", claim.id)


async def _record_refusal(
    engine: Engine, claim: outbox.Claim, exc: SlackApiError, now: datetime, report: DeliveryReport
) -> None:
    status = exc.response.status_code
    error = str(exc.response.get("error") or f"http_{status}")
    if status == 429:
        wait = int(exc.response.headers.get("Retry-After", DEFAULT_RETRY_AFTER_S))
        retry_at = now + timedelta(seconds=wait)
        await asyncio.to_thread(outbox.release, engine, claim, retry_at, error)
        report.deferred.append(claim.id)
        report.retry_at[claim.id] = retry_at
    elif status >= 500 or error in (
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    ):
        await asyncio.to_thread(outbox.mark_unknown, engine, claim, error)
        report.unknown.append(claim.id)
    else:
        log.error("Slack refused outbox %s for %s: %s", claim.id, claim.channel, error)
        await asyncio.to_thread(outbox.mark_failed, engine, claim, error)
        report.failed.append(claim.id)
