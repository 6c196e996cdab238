"""Starting and stopping Baton: migrations, Slack identity, HTTP, Socket Mode, the tick."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import sys
from contextlib import suppress

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.people.managers import refresh_managers
from bot.platform.budget import make_budget
from bot.platform.clock import Clock, system_clock
from bot.platform.http_sessions import LoopSessions
from bot.platform.services import Services
from bot.platform.serving import Serving
from bot.platform.settings import ConfigError, Settings
from bot.platform.slack_client import DEFAULT_TIMEOUT_S, close_sessions, make_client, pin_proxy
from bot.runtime.app import build_app
from bot.runtime.background import Background
from bot.runtime.features import install_commands, install_hooks
from bot.runtime.server import make_web_app
from storage.db import Database, make_engine
from storage.migrate import upgrade
from storage.workspaces import remember_workspace, resume_workspace

log = logging.getLogger(__name__)
# web: answers Slack and the CRM; worker: ticks and sets up; all: both (the work in a thread)
ROLES = ("all", "web", "worker")


def make_services(settings: Settings, clock: Clock = system_clock) -> Services:
    serving = Serving()
    db = Database(make_engine(settings.database_url), turn=serving.turn)
    budget = make_budget(db, clock, settings.baton_slack_posts_per_minute)
    token, url = settings.slack_bot_token, settings.slack_api_url
    sessions = LoopSessions(DEFAULT_TIMEOUT_S)  # both clients' connections, kept alive
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        client=make_client(token, url, budget=budget, sessions=sessions),
        sender=make_client(token, url, budget=budget, waits=False, sessions=sessions),
        budget=budget,
        serving=serving,
    )
    install_hooks(services.hooks)
    install_commands(services.commands)
    return services


async def identify(services: Services) -> None:
    """Learn (and record) which workspace the token belongs to; fail fast if refused."""
    try:
        identity = await services.client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN was refused by Slack ({exc.response.get('error')})."
        ) from None
    services.budget.team_id = identity["team_id"]
    await services.db.run(
        remember_workspace,
        identity["team_id"],
        identity.get("team") or "",
        identity.get("user_id"),
        services.clock(),
    )
    # Slack accepts the token: whatever a refused one paused flows again.
    await services.db.run(resume_workspace, identity["team_id"])


# How long a thread that wants the GIL waits before the one holding it must let go
# (CPython's default is 5 ms). An answer's unit of work runs in a database thread and
# comes back for the GIL after every statement; behind a loop busy reading requests (or a
# tick busy in Python), each of those returns would wait the whole interval. A shorter
# turn costs the busy thread a little (about a tenth more CPU in `baton demo`, where every
# request, tick and database thread shares one process and nobody waits on an answer: the
# demo keeps the interpreter's turn).
GIL_TURN_S = 0.0005


class BotServer:
    """Baton's long-running process, startable in-process by tests and the demo."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock = system_clock,
        *,
        ticker: bool = True,
        tick_seconds: float | None = None,
        process_before_response: bool = False,
        role: str = "all",
        gil_turn_s: float | None = GIL_TURN_S,
    ) -> None:
        if role not in ROLES:
            raise ConfigError(f"--role expects one of {', '.join(ROLES)}, not {role!r}.")
        self.settings = settings
        self.services = make_services(settings, clock)
        self.bolt_app: AsyncApp = build_app(
            self.services, process_before_response=process_before_response
        )
        self.role = role
        self._gil_turn_s = gil_turn_s
        self._with_ticker = ticker and role != "web"
        self._completes_first = process_before_response
        self._background: Background | None = None
        self._tick_seconds = tick_seconds or settings.baton_tick_seconds
        self._runner: web.AppRunner | None = None
        self._socket: AsyncSocketModeHandler | None = None
        self.url = ""

    async def start(self, host: str = "0.0.0.0", port: int | None = None) -> str:
        if self._gil_turn_s is not None:
            sys.setswitchinterval(self._gil_turn_s)
        await self.services.db.on_engine(upgrade)
        await self._identify()
        await refresh_managers(self.services, force=True)
        serves_slack = self.role != "worker"
        web_app = make_web_app(
            self.services,
            self.bolt_app if self.settings.slack_signing_secret is not None else None,
            set_up_before_answering=self._completes_first,
            serves_slack=serves_slack,
        )
        self._runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, self.settings.port if port is None else port)
        try:
            await site.start()
        except OSError as exc:
            raise ConfigError(
                _cannot_listen(self.settings.port if port is None else port, exc)
            ) from None
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{bound}"
        if self.settings.socket_mode and serves_slack:
            self._socket = AsyncSocketModeHandler(
                self.bolt_app,
                self.settings.slack_app_token,
                proxy=pin_proxy(self.settings.slack_api_url),
            )
            await self._socket.connect_async()
        if self._with_ticker:
            self._background = Background(self.services, self._tick_seconds)
            self._background.start()
        return self.url

    async def _identify(self) -> None:
        await identify(self.services)

    async def stop(self) -> None:
        if self._background is not None:
            await asyncio.to_thread(self._background.stop)  # waits for a tick in progress
            self._background = None
        if self._socket is not None:
            await self._socket.close_async()
            self._socket = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await close_sessions(self.services.client, self.services.sender)
        self.services.engine.dispose()


def _cannot_listen(port: int, error: OSError) -> str:
    if error.errno == errno.EADDRINUSE:
        return (
            f"port {port} is already in use; stop what listens there or set PORT to another port."
        )
    reason = error.strerror or str(error)
    return f"cannot listen on port {port} ({reason}); set PORT to another port."


def set_startup_aside() -> None:
    """What start-up built (modules, the app, the schema: some 150,000 objects) lives as long
    as the process. Set it aside from the garbage collector, whose full pass over it holds
    the event loop for about 80 ms: a burst of webhooks met one every few hundred answers."""
    gc.collect()
    gc.freeze()


async def run_forever(settings: Settings, role: str = "all") -> None:
    """`baton run`: serve until Ctrl-C or SIGTERM, then stop cleanly."""
    settings.require("slack_bot_token")
    if not settings.socket_mode and role != "worker":
        settings.require("slack_signing_secret")
    server = BotServer(settings, role=role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    try:
        url = await server.start()
        set_startup_aside()
        mode = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port}"
        mode = f"{mode}, {role}" if role != "worker" else "worker: ticks and set-up only"
        log.info("Baton is up (%s); health at %s/healthz", mode, url)
        await stop.wait()
        log.info("stopping")
    finally:
        await server.stop()
