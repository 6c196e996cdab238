"""The HTTP surface: Slack's requests, CRM webhooks, and a health check."""

from __future__ import annotations

import asyncio

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot.handoff.intake import closed_won
from bot.services import Services
from bot.webhook_auth import delivery_of, is_signed
from storage.db import ping

MAX_BODY_BYTES = 1024 * 1024


def make_web_app(services: Services, bolt_app: AsyncApp | None) -> web.Application:
    web_app = web.Application(client_max_size=MAX_BODY_BYTES)
    if bolt_app is not None:
        web_app.router.add_post("/slack/events", _slack_events(bolt_app))
    web_app.router.add_post("/crm/closed-won", _closed_won(services))
    web_app.router.add_get("/healthz", _healthz(services))
    return web_app


def _slack_events(bolt_app: AsyncApp):
    async def handle(request: web.Request) -> web.Response:
        bolt_request = await to_bolt_request(request)
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return handle


def _closed_won(services: Services):
    async def handle(request: web.Request) -> web.Response:
        secret = services.settings.baton_webhook_secret
        if secret is None:
            return _error(503, "BATON_WEBHOOK_SECRET is not set, so CRM webhooks are refused.")
        body = await request.read()
        if not is_signed(secret, body, request.headers):
            return _error(401, "The request signature is missing, wrong or expired.")
        answer = await closed_won(services, body, delivery_of(request.headers))
        return web.json_response(answer.body, status=answer.status)

    return handle


def _healthz(services: Services):
    async def handle(request: web.Request) -> web.Response:
        if await asyncio.to_thread(ping, services.engine):
            return web.json_response({"ok": True, "database": "ok"})
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)

    return handle


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)
