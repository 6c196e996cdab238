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

import ipaddress
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlparse

from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

DEFAULT_TIMEOUT_S = 10
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


def make_client(
    token: str | None,
    base_url: str,
    *,
    timeout: int = DEFAULT_TIMEOUT_S,
    retry_rate_limits: bool = True,
) -> AsyncWebClient:
    """A client for Slack's Web API at `base_url`.

    `retry_rate_limits=False` gives the outbox's sending client: no automatic retry of
    any kind, because a retried chat.postMessage after a dropped connection can post
    twice (Slack has no idempotency key). The outbox decides what to retry.
    """
    handlers = [AsyncRateLimitErrorRetryHandler(max_retry_count=2)] if retry_rate_limits else []
    proxy = pin_proxy(base_url)
    return AsyncWebClient(
        token=token, base_url=base_url, timeout=timeout, retry_handlers=handlers, proxy=proxy
    )


@contextmanager
def bolt_env_masked() -> Iterator[None]:
    """Hide the variables with which Bolt would configure itself behind our back."""
    saved = {name: os.environ.pop(name) for name in _BOLT_AMBIENT if name in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)
