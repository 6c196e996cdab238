"""A bare Bolt app answering `/baton` with a constant, served as `baton run` serves Baton
(aiohttp, Bolt's AsyncApp, the same request handler): what Slack's plumbing costs alone.
Started by the benches in a process of its own (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
SLACK_API_URL, PORT)."""

from __future__ import annotations

import os

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.server import _slack_events


def main() -> None:
    token = os.environ["SLACK_BOT_TOKEN"]
    app = AsyncApp(
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=AsyncWebClient(token=token, base_url=os.environ["SLACK_API_URL"]),
        token=token,
    )

    @app.command("/baton")
    async def constant(ack) -> None:  # noqa: ANN001
        await ack(response_type="ephemeral", text="Acme Robotics is owned by someone.")

    web_app = make_web_app_for(app)
    web_app.router.add_get("/healthz", _healthz)
    web.run_app(web_app, host="127.0.0.1", port=int(os.environ["PORT"]), print=None)


def make_web_app_for(app: AsyncApp) -> web.Application:
    """Bolt served at /slack/events by Baton's own request handler (also for the tests'
    bare apps)."""
    web_app = web.Application()
    web_app.router.add_post("/slack/events", _slack_events(app))
    return web_app


async def _healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


if __name__ == "__main__":
    main()
