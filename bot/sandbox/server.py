"""A loopback HTTP server that answers Slack Web API calls from a SandboxWorkspace."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.sandbox.rules import (
    METHOD_TIER,
    POST_MESSAGE_BURST,
    POST_MESSAGE_PER_SECOND,
    POSTS_PER_MINUTE,
    TIER_PER_MINUTE,
    SlackError,
    reply_problems,
    required_scopes,
)
from bot.sandbox.state import Ephemeral, Message, SandboxWorkspace

log = logging.getLogger(__name__)
# A response_url takes up to 5 messages within 30 minutes of the interaction (Slack's
# "Handling user interaction" guide); then it answers 404.
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = timedelta(minutes=30)


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    ok: bool
    error: str | None
    status: int
    connection: int = 0  # the caller's port: calls on one kept-alive connection share it


@dataclass
class Fault:
    method: str | None
    times: int
    status: int | None = None  # an HTTP status to answer with (e.g. 500, 503)
    error: str | None = None  # a Slack error string to answer with (HTTP 200)
    delay_s: float | None = None  # hold the response this long (a client timeout)
    after_effect: bool = False  # carry the call out first, then fail: "Slack has it"
    retry_after: int = 1  # with status 429: the Retry-After header


@dataclass
class Stall:
    """Calls held by SlackSandbox.stall(): answered once `released`, never once `dropped`."""

    methods: set[str] | None
    released: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: asyncio.Event = field(default_factory=asyncio.Event)

    def holds(self, method: str) -> bool:
        return not (self.released.is_set() or self.dropped.is_set()) and (
            self.methods is None or method in self.methods
        )


@dataclass
class ResponsePost:
    user: str
    channel: str
    body: dict[str, Any]


@dataclass
class ResponseUrl:
    user: str
    channel: str
    issued: datetime
    uses: int = 0


@dataclass
class Rejected:
    """An app's answer that Slack would not show: the person sees an error instead.

    `kind`: "command" (a slash command's HTTP reply), "response_url" (a post to it),
    or "view_submission" (the answer to a modal's submission)."""

    kind: str
    problems: list[str]
    body: Any


class RateLimiter:
    """Token buckets per method, and for chat.postMessage per channel and per workspace
    (Slack keeps a workspace-wide posting limit it does not publish: `posts_per_minute`)."""

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self.monotonic = monotonic
        self.enabled = True
        self.posts_per_minute = POSTS_PER_MINUTE
        self._buckets: dict[tuple[str, ...], tuple[float, float]] = {}

    def _limits(
        self, method: str, channel: str | None
    ) -> list[tuple[tuple[str, ...], float, float]]:
        """(bucket, capacity, refill per second) for each limit the call falls under."""
        if method == "chat.postMessage":
            return [
                ((method, channel or ""), POST_MESSAGE_BURST, POST_MESSAGE_PER_SECOND),
                ((method,), self.posts_per_minute, self.posts_per_minute / 60),
            ]
        per_minute = TIER_PER_MINUTE[METHOD_TIER.get(method, 3)]
        return [((method,), per_minute, per_minute / 60)]

    def retry_after(self, method: str, channel: str | None) -> int | None:
        """Take one token from each of the call's buckets; None if allowed, else the
        seconds to wait (and nothing taken)."""
        if not self.enabled:
            return None
        now = self.monotonic()
        filled = []
        for key, capacity, rate in self._limits(method, channel):
            tokens, last = self._buckets.get(key, (capacity, now))
            filled.append((key, min(capacity, tokens + max(0.0, now - last) * rate), rate))
        short = [(1 - tokens) / rate for _, tokens, rate in filled if tokens < 1]
        for key, tokens, _ in filled:
            self._buckets[key] = (tokens - (0 if short else 1), now)
        return max(1, math.ceil(max(short))) if short else None


@dataclass
class SlackSandbox:
    workspace: SandboxWorkspace = field(default_factory=SandboxWorkspace)
    host: str = "127.0.0.1"

    def __post_init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        # A call no injected fault matches may still fail: chaos(method) picks a fault for
        # it or None (a seeded storm of random faults, see bench/storm.py).
        self.chaos: Callable[[str], Fault | None] | None = None
        self.response_posts: list[ResponsePost] = []
        self.rejected_replies: list[Rejected] = []
        # Read through the workspace each time, so use_clock() also moves the rate limits.
        self.limiter = RateLimiter(lambda: self.workspace.monotonic())
        self._response_urls: dict[str, ResponseUrl] = {}
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._stopping = asyncio.Event()  # releases responses held by delay faults
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.stalled: list[Call] = []  # calls held by stall(), in arrival order
        self._stall: Stall | None = None
        self.base_url = ""

    # --- lifecycle --------------------------------------------------------------------
    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=2 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/_respond/{key}", self._handle_response_url)
        app.router.add_get("/link", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://{self.host}:{bound}"
        return self.api_url

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/"

    async def stop(self) -> None:
        self._stopping.set()
        self.drop_stalled()
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- test controls ----------------------------------------------------------------
    def inject(
        self,
        method: str | None = None,
        *,
        times: int = 1,
        status: int | None = None,
        error: str | None = None,
        delay_s: float | None = None,
        after_effect: bool = False,
        retry_after: int = 1,
    ) -> None:
        """Make the next `times` calls of `method` (any method if None) fail this way."""
        self.faults.append(Fault(method, times, status, error, delay_s, after_effect, retry_after))

    def stall(self, methods: set[str] | None = None) -> None:
        """Hold every Web API call of `methods` (any method if None; a post to a
        response_url is the method "response_url") from now on: neither carried out nor
        answered, as if Slack never got it, until release(). After drop_stalled() or stop()
        a held call never is: its connection is closed instead."""
        self._stall = Stall(None if methods is None else set(methods))

    def release(self) -> None:
        """Stop stalling: the held calls are carried out and answered now."""
        if self._stall is not None:
            self._stall.released.set()
            self._stall = None

    def drop_stalled(self) -> None:
        """Stop stalling: the held calls are never carried out nor answered."""
        if self._stall is not None:
            self._stall.dropped.set()
            self._stall = None

    def calls_of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def response_url_for(self, user: str, channel: str) -> str:
        key = secrets.token_urlsafe(12)
        self._response_urls[key] = ResponseUrl(user, channel, self.workspace.clock())
        return f"{self.base_url}/_respond/{key}"

    def reject(self, kind: str, problems: list[str], body: Any) -> None:
        log.warning("Slack would refuse this %s answer: %s", kind, "; ".join(problems))
        self.rejected_replies.append(Rejected(kind, problems, body))

    # --- request handling -------------------------------------------------------------
    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await _read_args(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        token = token or str(args.pop("token", ""))
        await self._unless_stalled(request, method, args)
        status, body, headers = await self._dispatch(method, token, args)
        ok, error = bool(body.get("ok")), body.get("error")
        self.calls.append(Call(method, args, ok, error, status, _port_of(request)))
        return web.json_response(body, status=status, headers=headers)

    async def _dispatch(
        self, method: str, token: str, args: dict[str, Any]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        workspace = self.workspace
        if method == "apps.connections.open":
            return self._open_connection(token)
        handler = getattr(workspace, "api_" + method.replace(".", "_"), None)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        if args.pop("__invalid_json", False):
            return 200, {"ok": False, "error": "invalid_json"}, {}
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token == workspace.app_token:
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        if token != workspace.bot_token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        if workspace.token_error:
            return 200, {"ok": False, "error": workspace.token_error}, {}
        fault = self._take_fault(method)
        if fault is not None and not fault.after_effect:
            return await self._fail(fault)
        channel = str(args.get("channel") or "") or None
        wait = self.limiter.retry_after(method, channel)
        if wait is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(wait)}
        needed = required_scopes(method, args, workspace.channel_kind(args))
        if needed and not needed & workspace.bot_scopes:
            return (
                200,
                {
                    "ok": False,
                    "error": "missing_scope",
                    "needed": ",".join(sorted(needed)),
                    "provided": ",".join(sorted(workspace.bot_scopes)),
                },
                {},
            )
        try:
            body = {"ok": True, **handler(args)}
        except SlackError as exc:
            body = {"ok": False, "error": exc.code, **exc.extra}
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            # An argument of the wrong shape: Slack answers 200 and an error, never a 5xx.
            log.warning("sandbox %s: malformed arguments (%r)", method, exc)
            body = {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": [f"[ERROR] {type(exc).__name__}: {exc}"]},
            }
        if fault is not None:
            return await self._fail(fault)
        return 200, body, {}

    async def _unless_stalled(self, request: web.Request, method: str, args: dict) -> None:
        """A stalled call waits here: it goes on once released; dropped (or the sandbox
        stopped), its connection is closed with no answer, and nothing was carried out."""
        stall = self._stall
        if stall is None or not stall.holds(method):
            return
        self.stalled.append(Call(method, args, False, "stalled", 0))
        waits = [asyncio.ensure_future(e.wait()) for e in (stall.released, stall.dropped)]
        waits.append(asyncio.ensure_future(self._stopping.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
        if not stall.released.is_set():
            if request.transport is not None:
                request.transport.close()
            raise web.HTTPServiceUnavailable()  # never written: the connection is closed

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method in (None, method):
                fault.times -= 1
                return fault
        return self.chaos(method) if self.chaos is not None else None

    # --- Socket Mode ------------------------------------------------------------------
    def _open_connection(self, token: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token == self.workspace.bot_token:
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        if token != self.workspace.app_token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        ws_url = self.base_url.replace("http://", "ws://", 1)
        return 200, {"ok": True, "url": f"{ws_url}/link?ticket={secrets.token_hex(8)}"}, {}

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {"host": "sandbox", "approximate_connection_time": 3600},
                "connection_info": {"app_id": "A0BATON"},
            }
        )
        try:
            async for frame in socket:
                if frame.type.name != "TEXT":
                    continue
                with contextlib.suppress(ValueError, AttributeError):
                    ack = json.loads(frame.data)
                    waiter = self._acks.pop(str(ack.get("envelope_id")), None)
                    if waiter is not None and not waiter.done():
                        waiter.set_result(ack.get("payload") or {})
        finally:
            self._sockets.remove(socket)
        return socket

    @property
    def socket_connected(self) -> bool:
        return bool(self._sockets)

    async def deliver_envelope(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        retry_attempt: int = 0,
        retry_reason: str = "",
        wait_s: float = 3.0,
    ) -> dict[str, Any]:
        """Send one Socket Mode envelope and wait for the app's ack, as Slack does.

        Raises TimeoutError when the app does not acknowledge within `wait_s` (Slack then
        shows the user an error). `kind`: slash_commands, interactive or events_api.
        """
        if not self._sockets:
            raise ConnectionError("no Socket Mode connection is open")
        envelope_id = secrets.token_hex(12)
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = waiter
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": payload,
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry_attempt,
                "retry_reason": retry_reason,
            }
        )
        try:
            return await asyncio.wait_for(waiter, wait_s)
        finally:
            self._acks.pop(envelope_id, None)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        await self._unless_stalled(request, "response_url", {})
        target = self._response_urls.get(request.match_info["key"])
        if target is None or self.workspace.clock() - target.issued > RESPONSE_URL_TTL:
            return web.Response(status=404, text="expired_url")
        if target.uses >= RESPONSE_URL_USES:
            return web.Response(status=404, text="used_url")
        target.uses += 1
        user, channel = target.user, target.channel
        try:
            body: Any = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            self.reject("response_url", ["the body is not JSON"], None)
            return web.Response(status=400, text="invalid_payload")
        problems = reply_problems(body)
        if problems:
            self.reject("response_url", problems, body)
            return web.Response(status=400, text=problems[0])
        self.response_posts.append(ResponsePost(user, channel, body))
        workspace = self.workspace
        blocks = body.get("blocks") or None
        text = str(body.get("text") or "")
        if body.get("response_type") == "in_channel" and channel in workspace.channels:
            workspace.channels[channel].messages.append(
                Message(
                    ts=workspace._next_ts(),
                    channel=channel,
                    user=workspace.bot.id,
                    text=text,
                    blocks=blocks,
                    at=workspace.clock(),
                )
            )
        else:
            workspace.ephemerals.append(Ephemeral(channel, user, text, blocks, workspace.clock()))
        return web.Response(text="ok")

    async def _fail(self, fault: Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
        if fault.delay_s:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.delay_s)
        return _failure(fault)


def _failure(fault: Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
    if fault.error:
        return 200, {"ok": False, "error": fault.error}, {}
    if fault.status == 429:
        return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(fault.retry_after)}
    return fault.status or 500, {"ok": False, "error": "internal_error"}, {}


async def _read_args(request: web.Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.can_read_body:
        return args
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return {**args, "__invalid_json": True}
        if isinstance(body, dict):
            args.update(body)
    else:
        args.update(dict(await request.post()))
    return args


def _port_of(request: web.Request) -> int:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return int(peer[1]) if isinstance(peer, tuple) and len(peer) > 1 else 0
