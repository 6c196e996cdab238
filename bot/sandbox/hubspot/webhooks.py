"""HubSpot's sending side: webhooks API batches and workflow webhooks, signed as HubSpot signs.

The signer lives here (not in flows/): the sandbox imports no Baton code, so a test that
checks Baton's verifier against it checks two implementations of HubSpot's rules, not one.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

# The characters HubSpot decodes in the URI before it signs ("Validating requests", v3).
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ENCODED = re.compile("|".join(_DECODED), re.IGNORECASE)
USER_AGENT = (
    "HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client) "
    "- WebhooksExecutorDaemon-executor"
)
TIMEOUT_S = 5.0  # HubSpot counts a webhook not answered within 5 seconds as failed


def sign_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """X-HubSpot-Signature-v3: base64(HMAC-SHA256(secret, method + uri + body + timestamp)),
    with the URI's %3A, %2F, ... decoded first."""
    decoded = _ENCODED.sub(lambda match: _DECODED[match.group(0).upper()], uri)
    source = f"{method}{decoded}".encode() + body + timestamp.encode()
    return base64.b64encode(hmac.new(secret.encode(), source, hashlib.sha256).digest()).decode()


def signed_headers(
    secret: str, method: str, uri: str, body: bytes, timestamp_ms: int, legacy: str
) -> dict[str, str]:
    """The headers HubSpot sends with a request: v3, and the older v1/v2 (`legacy`) too."""
    stamp = str(timestamp_ms)
    if legacy == "v1":
        old = hashlib.sha256(secret.encode() + body).hexdigest()
    else:
        old = hashlib.sha256(f"{secret}{method}{uri}".encode() + body).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-HubSpot-Request-Timestamp": stamp,
        "X-HubSpot-Signature-v3": sign_v3(secret, method, uri, body, stamp),
        "X-HubSpot-Signature-Version": legacy,
        "X-HubSpot-Signature": old,
        "X-HubSpot-Timeout-Millis": str(int(TIMEOUT_S * 1000)),
    }


@dataclass
class Delivery:
    """One request the sender made, and what Baton answered (0: no answer in time)."""

    url: str
    body: bytes
    headers: dict[str, str]
    status: int
    events: list[dict[str, Any]] = field(default_factory=list)


class HubSpotWebhooks:
    """Sends what HubSpot sends: signed batches of events, their retries, workflow webhooks.

    `send()` returns Baton's HTTP status, or 0 when Baton did not answer within HubSpot's
    5 seconds (HubSpot then counts the delivery as failed and retries it)."""

    def __init__(
        self,
        target_url: str,
        client_secret: str,
        *,
        clock_ms: Callable[[], int] | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self.target_url = target_url
        self.client_secret = client_secret
        self.clock_ms = clock_ms or (lambda: int(time.time() * 1000))
        self.timeout_s = timeout_s
        self.deliveries: list[Delivery] = []
        self._last: list[dict[str, Any]] = []
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HubSpotWebhooks:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(
        self,
        events: list[dict[str, Any]],
        *,
        url: str | None = None,
        timestamp_ms: int | None = None,
    ) -> int:
        """POST `events` as one webhooks API batch (a JSON array), signed v3 (and v1)."""
        self._last = copy.deepcopy(events)
        body = json.dumps(events, separators=(",", ":")).encode()
        return await self._post(url or self.target_url, body, "v1", timestamp_ms, events)

    async def redeliver(self, events: list[dict[str, Any]] | None = None) -> int:
        """Send the last batch (or `events`) again as HubSpot's retry does: same eventIds,
        attemptNumber one higher, signed afresh."""
        again = copy.deepcopy(events if events is not None else self._last)
        for event in again:
            event["attemptNumber"] = int(event.get("attemptNumber", 0)) + 1
        return await self.send(again)

    async def send_workflow(
        self,
        deal_id: int | str,
        properties: Mapping[str, object],
        *,
        all_properties: bool = False,
        portal_id: int | None = None,
        url: str | None = None,
        timestamp_ms: int | None = None,
    ) -> int:
        """POST what a deal workflow's "Send a webhook" action posts: the chosen properties as
        one flat object (the Record ID among them, as `hs_object_id`), or with
        `all_properties` the record with `objectId` and {"value", "timestamp", "versions"}
        for each property. Signed v3 (and v2, as workflows are)."""
        stamp = self.clock_ms() if timestamp_ms is None else timestamp_ms
        if all_properties:
            payload: dict[str, Any] = {
                "objectId": int(deal_id),
                "objectType": "DEAL",
                "properties": {
                    name: _versioned(name, value, stamp) for name, value in properties.items()
                },
            }
            if portal_id is not None:
                payload["portalId"] = portal_id
        else:
            payload = {"hs_object_id": str(deal_id), **{k: _text(v) for k, v in properties.items()}}
        body = json.dumps(payload, separators=(",", ":")).encode()
        return await self._post(url or self.target_url, body, "v2", stamp, [payload])

    async def _post(
        self,
        url: str,
        body: bytes,
        legacy: str,
        timestamp_ms: int | None,
        events: list[dict[str, Any]],
    ) -> int:
        stamp = self.clock_ms() if timestamp_ms is None else timestamp_ms
        headers = signed_headers(self.client_secret, "POST", url, body, stamp, legacy)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                allow_redirects=False,  # HubSpot does not follow redirects
            ) as response:
                await response.read()
                status = response.status
        except TimeoutError:
            status = 0
        self.deliveries.append(Delivery(url, body, headers, status, copy.deepcopy(events)))
        return status


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _versioned(name: str, value: object, stamp: int) -> dict[str, Any]:
    text = _text(value)
    version = {"name": name, "value": text, "timestamp": stamp, "source": "CRM_UI"}
    return {"value": text, "timestamp": stamp, "source": "CRM_UI", "versions": [version]}
