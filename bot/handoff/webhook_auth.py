"""Signatures on CRM webhooks: Slack's scheme, with Baton's header names.

X-Baton-Signature = "v0=" + hex HMAC-SHA256(secret, "v0:{X-Baton-Timestamp}:{raw body}");
a timestamp more than five minutes off is refused, so a captured request can't be replayed.
"""

from __future__ import annotations

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
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(secret, body, stamp)}


def signature(secret: str, body: bytes, stamp: str) -> str:
    """Slack's "v0=…" signature of `body` signed at `stamp`, by slack_sdk's own code.

    Slack signs UTF-8 text. A body that is not UTF-8 (Slack never sends one; tests do) is
    signed as its text with replacement characters, so no verifier accepts it: a server
    must refuse it for what it is before it looks at the signature."""
    text = body.decode("utf-8", errors="replace")
    return str(SignatureVerifier(secret).generate_signature(timestamp=stamp, body=text))


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
