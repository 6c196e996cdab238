"""Signatures on CRM webhooks: Slack's scheme, with Baton's header names.

X-Baton-Signature = "v0=" + hex HMAC-SHA256(secret, "v0:{X-Baton-Timestamp}:{raw body}");
a timestamp more than five minutes off is refused, so a captured request can't be replayed.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.signature import SignatureVerifier

from bot.platform.http_input import well_formed

TIMESTAMP_HEADER = "X-Baton-Timestamp"
SIGNATURE_HEADER = "X-Baton-Signature"


def is_signed(secret: str, body: bytes, headers: dict[str, str] | object) -> bool:
    get = headers.get  # type: ignore[attr-defined]
    timestamp, signature = get(TIMESTAMP_HEADER), get(SIGNATURE_HEADER)
    if not well_formed(timestamp, signature):
        return False  # missing, or malformed (the verifier raises on a timestamp of "abc")
    # SignatureVerifier enforces the 5-minute window and compares in constant time.
    return SignatureVerifier(secret).is_valid(body, timestamp, signature)


def signed_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The headers a CRM must send with `body` (what our own demo and tests send)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: "v0=" + digest.hexdigest()}


@dataclass(frozen=True)
class Delivery:
    """Who-signed-when of a verified webhook: its signature (a replay repeats it) and its
    signing time (orders CRM news that carries no time of its own)."""

    signature: str
    signed_at: datetime


def delivery_of(headers: dict[str, str] | object) -> Delivery:
    """The delivery of a request `is_signed` accepted."""
    get = headers.get  # type: ignore[attr-defined]
    stamp = int(get(TIMESTAMP_HEADER))
    return Delivery(str(get(SIGNATURE_HEADER)), datetime.fromtimestamp(stamp, UTC))
