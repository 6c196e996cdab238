"""Settling messages whose fate at Slack is unknown, so none is lost and none sent twice.

chat.postMessage has no idempotency key, so a timeout, a 5xx, or a worker killed between
calling Slack and recording the answer leaves a message that Slack may or may not have.
Every message Baton posts carries its outbox id in message metadata; before anything is
sent again, the channel (or thread) is read back: if a message with that id is there,
the row is recorded as sent with that ts; only if it is not is the message posted again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.delivery import METADATA_EVENT, DeliveryReport, deliver_claim
from bot.services import Services
from storage import outbox

log = logging.getLogger(__name__)
# A sending worker gives up on Slack after its client timeout (10 s); a row still
# "sending" after this long belongs to a worker that died.
SEND_LEASE = timedelta(minutes=2)
# Slack's clock and ours may differ a little: read history from a bit before the due time.
CLOCK_MARGIN = timedelta(minutes=5)


@dataclass
class ReconcileReport:
    found: list[int] = field(default_factory=list)
    resent: DeliveryReport = field(default_factory=DeliveryReport)
    undecided: list[int] = field(default_factory=list)


async def reconcile(services: Services, now: datetime) -> ReconcileReport:
    report = ReconcileReport()
    claims = await asyncio.to_thread(
        outbox.reclaim_uncertain, services.engine, now, now - SEND_LEASE
    )
    for claim in claims:
        try:
            posted = await _find(services, claim)
        except SlackApiError as exc:
            # Cannot tell yet (Slack down, rate limited): leave it unknown, ask next tick.
            await asyncio.to_thread(
                outbox.mark_unknown,
                services.engine,
                claim,
                f"reconcile: {exc.response.get('error')}",
            )
            report.undecided.append(claim.id)
            continue
        if posted is not None:
            channel, ts = posted
            await asyncio.to_thread(outbox.mark_sent, services.engine, claim, channel, ts, now)
            report.found.append(claim.id)
        else:
            log.info("outbox %s never reached Slack; sending it now", claim.id)
            await deliver_claim(services.engine, services.sender, claim, now, report.resent)
    return report


async def _find(services: Services, claim: outbox.Claim) -> tuple[str, str] | None:
    client = services.client
    channel = claim.channel
    if channel.startswith(("U", "W")):  # posted to a user id: it lives in the app's DM
        channel = (await client.conversations_open(users=channel))["channel"]["id"]
    oldest = f"{(claim.due_at - CLOCK_MARGIN).timestamp():.6f}"
    if claim.thread_ts:
        response = await client.conversations_replies(
            channel=channel, ts=claim.thread_ts, oldest=oldest, include_all_metadata=True, limit=200
        )
    else:
        response = await client.conversations_history(
            channel=channel, oldest=oldest, include_all_metadata=True, limit=200
        )
    for message in response.get("messages", []):
        if _outbox_id(message) == claim.id:
            return channel, message["ts"]
    return None


def _outbox_id(message: dict[str, Any]) -> int | None:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_EVENT:
        return None
    value = (metadata.get("event_payload") or {}).get("outbox_id")
    return value if isinstance(value, int) else None
