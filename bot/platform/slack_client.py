"""Web API clients built from our settings, never from ambient SLACK_* variables.

slack_sdk takes HTTP(S)_PROXY from the environment and ignores NO_PROXY, which would
send even loopback traffic (the sandbox) through a proxy. We resolve the proxy the way
every other HTTP client does: NO_PROXY honoured, loopback never proxied.

Setting the proxy on our own client is not enough: Bolt builds a new client for every
request (and a webhook client for respond()), and each of those reads the environment
again. So the decision, once made for Slack's base URL, is written back into this
process's proxy variables; slack_sdk treats an empty variable as "no proxy".
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.platform.budget import Budget
from bot.platform.http_sessions import LoopSessions

DEFAULT_TIMEOUT_S = 10
DEFAULT_RETRY_AFTER_S = 30
# A call the budget (or Slack) holds back: how long a caller that may wait waits, at most.
WAIT_AT_MOST_S = 10.0
ATTEMPTS = 3
# Variables with which slack_bolt silently changes behaviour (OAuth with file stores,
# legacy verification tokens) when they happen to be in the environment.
# SLACK_BOT_TOKEN too: Bolt would read it besides our client's and warn that it is unused.
_BOLT_AMBIENT = (
    "SLACK_BOT_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_VERIFICATION_TOKEN",
)
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


def proxy_for(url: str) -> str | None:
    parsed = urlparse(url)
    host = parsed.hostname or ""
    if _is_loopback(host) or urllib.request.proxy_bypass_environment(host):
        return None
    proxies = urllib.request.getproxies_environment()
    return proxies.get(parsed.scheme) or None


def pin_proxy(base_url: str) -> str | None:
    """Decide the proxy for Slack traffic and make every slack_sdk client agree with it."""
    proxy = proxy_for(base_url)
    for name in _PROXY_VARIABLES:
        os.environ[name] = proxy or ""
    return proxy


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OverBudget(SlackApiError):
    """Baton's own 429: the call would go over the rate budget, so it was not made.
    It reads like Slack's (status 429, Retry-After), and `wait` says exactly how long."""

    def __init__(self, response: AsyncSlackResponse, wait: float) -> None:
        super().__init__(f"over Baton's rate budget for another {wait:.2f} s", response)
        self.wait = wait


def retry_after(headers: Any) -> int:
    """Slack's Retry-After in seconds (a missing or odd header: a cautious default)."""
    try:
        wait = int(str(headers.get("Retry-After", DEFAULT_RETRY_AFTER_S)).strip())
    except (TypeError, ValueError, AttributeError):
        return DEFAULT_RETRY_AFTER_S
    return min(max(wait, 1), 3600)


class BudgetedClient(AsyncWebClient):
    """Every request asks the budget first, and tells it when Slack answers 429.

    A client that may wait (`wait_at_most` > 0, for calls made while someone is served)
    waits for its turn when that is soon; otherwise the call is not made and OverBudget
    says for how long (the outbox defers the message by that much)."""

    def __init__(
        self,
        *args: Any,
        budget: Budget | None,
        wait_at_most: float,
        sessions: LoopSessions | None = None,
        **kwargs: Any,
    ):
        self.sessions = sessions or LoopSessions(kwargs.get("timeout", DEFAULT_TIMEOUT_S))
        super().__init__(*args, **kwargs)
        self.budget = budget
        self.wait_at_most = wait_at_most

    @property  # type: ignore[override]
    def session(self) -> aiohttp.ClientSession | None:
        """The running loop's kept-alive session (Bolt's per-request clients take it too)."""
        return self.sessions.current()

    @session.setter
    def session(self, _given: aiohttp.ClientSession | None) -> None:
        pass  # slack_sdk's constructor sets None; the sessions are per loop

    async def _request(self, *, http_verb: str, api_url: str, req_args: dict) -> dict[str, Any]:
        if self.budget is None:
            return await super()._request(http_verb=http_verb, api_url=api_url, req_args=req_args)
        method = api_url.removeprefix(self.base_url).strip("/")
        channel = _channel_of(req_args)
        wait = await self.budget.take(method, channel)
        for attempt in range(1, ATTEMPTS + 1):
            if wait > 0:  # the budget's no: wait for the turn, or give up now
                if wait > self.wait_at_most or attempt == ATTEMPTS:
                    raise OverBudget(self._refusal(http_verb, api_url, req_args, wait), wait)
                await asyncio.sleep(wait)
                wait = await self.budget.take(method, channel)
                continue
            response = await super()._request(
                http_verb=http_verb, api_url=api_url, req_args=req_args
            )
            if response.get("status_code") != 429:
                return response
            # Slack's no: nobody calls under this limit before Retry-After. This caller,
            # having waited it out, tries again in the turn it was given.
            after = retry_after(response.get("headers") or {})
            await self.budget.hold_off(method, channel, after)
            if after > self.wait_at_most or attempt == ATTEMPTS:
                return response
            await asyncio.sleep(after)
        raise AssertionError("unreachable")

    def _refusal(
        self, http_verb: str, api_url: str, req_args: dict, wait: float
    ) -> AsyncSlackResponse:
        return AsyncSlackResponse(
            client=self,
            http_verb=http_verb,
            api_url=api_url,
            req_args=req_args,
            data={"ok": False, "error": "ratelimited"},
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
            status_code=429,
        )


def _channel_of(req_args: dict) -> str | None:
    for part in ("json", "data", "params"):
        values = req_args.get(part)
        if isinstance(values, dict) and values.get("channel"):
            return str(values["channel"])
    return None


def make_client(
    token: str | None,
    base_url: str,
    *,
    timeout: int = DEFAULT_TIMEOUT_S,
    budget: Budget | None = None,
    waits: bool = True,
    sessions: LoopSessions | None = None,
) -> BudgetedClient:
    """A client for Slack's Web API at `base_url`, paced by `budget`.

    `waits=False` gives the outbox's sending client: it never waits or retries, because a
    retried chat.postMessage after a dropped connection can post twice (Slack has no
    idempotency key), and a message that must wait is deferred, not slept on. The outbox
    decides what to retry.
    """
    proxy = pin_proxy(base_url)
    return BudgetedClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[],
        proxy=proxy,
        budget=budget,
        wait_at_most=WAIT_AT_MOST_S if waits else 0.0,
        sessions=sessions,
    )


async def close_sessions(*clients: AsyncWebClient) -> None:
    """Close the running loop's sessions of these clients (those that keep them)."""
    for client in clients:
        if isinstance(client, BudgetedClient):
            await client.sessions.close()


@contextmanager
def bolt_env_masked() -> Iterator[None]:
    """Hide the variables with which Bolt would configure itself behind our back."""
    saved = {name: os.environ.pop(name) for name in _BOLT_AMBIENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
