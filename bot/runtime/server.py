"""The HTTP surface: Slack's requests, CRM webhooks, and a health check."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.http_exceptions import BadHttpMessage
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy.exc import DBAPIError

from bot.crm.answers import DoorAnswer
from bot.handoff.intake import closed_won, deal_intake
from bot.handoff.webhook_auth import delivery_of, is_signed
from bot.platform.http_input import BadRequest, check_slack_body, is_json, utf8, well_formed
from bot.platform.services import Services
from storage.db import is_outage, outage_reason, ping

MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_S = 60
SIGNATURE_REFUSED = "The request signature is missing, wrong or expired."
log = logging.getLogger(__name__)


class _MalformedHttp(logging.Filter):
    """aiohttp logs a request it cannot even parse (a header line over its limit, a broken
    request line) as an error with a traceback, after answering it 400. It is the client's
    mistake, not ours: one warning line."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, BadHttpMessage):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = (
                "refused a malformed HTTP request: %s",
                (type(error).__name__,),
            )
            record.exc_info = record.exc_text = None
        return True


_MALFORMED = _MalformedHttp()


def make_web_app(
    services: Services,
    bolt_app: AsyncApp | None,
    *,
    set_up_before_answering: bool = False,
    serves_slack: bool = True,
) -> web.Application:
    """Slack's and the CRM's endpoints and /healthz; a worker (`serves_slack=False`) has
    only /healthz."""
    logging.getLogger("aiohttp.server").addFilter(_MALFORMED)  # added once, however many apps
    web_app = web.Application(
        client_max_size=MAX_BODY_BYTES, middlewares=[_serving(services), _database_outage]
    )
    if bolt_app is not None and serves_slack:
        web_app.router.add_post("/slack/events", _slack_events(bolt_app))
    if serves_slack:
        web_app.router.add_post("/crm/closed-won", _closed_won(services, set_up_before_answering))
        _add_crm_doors(web_app, services)
    web_app.router.add_get("/healthz", _healthz(services))
    return web_app


def _serving(services: Services):  # noqa: ANN202
    """Count the requests in flight, for the background to give way to (`Serving`)."""

    @web.middleware
    async def count(request: web.Request, handler) -> web.StreamResponse:  # noqa: ANN001
        services.serving.begin()
        try:
            return await handler(request)
        finally:
            services.serving.end()

    return count


@web.middleware
async def _database_outage(request: web.Request, handler) -> web.StreamResponse:  # noqa: ANN001
    """A database that is down or gone is "retry later" (503), not a 500 and a traceback."""
    try:
        return await handler(request)
    except DBAPIError as error:
        if not is_outage(error):
            raise
        log.warning(
            "%s %s: the database is unavailable (%s)",
            request.method,
            request.path,
            outage_reason(error),
        )
        return _error(
            503,
            "Baton's database is unavailable right now; retry later.",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )


def _slack_events(bolt_app: AsyncApp):
    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        headers = request.headers
        try:
            text = utf8(raw)
            if not well_formed(
                headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature")
            ):
                return _error(401, SIGNATURE_REFUSED)
            check_slack_body(text, request.content_type)
            # Bolt parses the body (and reads ids out of it) before it checks the signature.
            bolt_request = AsyncBoltRequest(body=text, query=request.query_string, headers=headers)
        except BadRequest as bad:
            return _error(bad.status, bad.message)
        except (TypeError, KeyError, AttributeError, IndexError, ValueError):
            return _error(400, "The request body is not a Slack payload.")
        bolt_response = await bolt_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    return handle


def _closed_won(services: Services, set_up_now: bool):
    intake = deal_intake(services)

    async def handle(request: web.Request) -> web.Response:
        secret = services.settings.baton_webhook_secret
        if secret is None:
            return _error(503, "BATON_WEBHOOK_SECRET is not set, so CRM webhooks are refused.")
        body = await request.read()
        try:
            utf8(body)  # the signature is computed over UTF-8 text
        except BadRequest as bad:
            return _error(bad.status, bad.message)
        if not is_signed(secret, body, request.headers):
            return _error(401, SIGNATURE_REFUSED)
        if not is_json(request.content_type):
            return _error(415, "Send the deal as JSON, with Content-Type: application/json.")
        answer = await closed_won(
            services, intake, body, delivery_of(request.headers), set_up_now=set_up_now
        )
        return web.json_response(answer.body, status=answer.status)

    return handle


def _add_crm_doors(web_app: web.Application, services: Services) -> None:
    from bot.crm.hubspot_door import HubSpotDoor
    from bot.crm.salesforce_door import SalesforceDoor

    hubspot, salesforce = HubSpotDoor(services), SalesforceDoor(services)

    async def from_hubspot(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        answer = await hubspot.answer(
            request.method, signed_uri(request), request.headers, raw, _team(request)
        )
        return _door_response(answer)

    async def from_salesforce_flow(request: web.Request) -> web.StreamResponse:
        answer = await salesforce.flow(request.headers, await request.read(), _team(request))
        return _door_response(answer)

    async def from_salesforce_outbound(request: web.Request) -> web.StreamResponse:
        return _door_response(await salesforce.outbound(await request.read(), _team(request)))

    web_app.router.add_post("/crm/hubspot", from_hubspot)
    web_app.router.add_post("/crm/salesforce", from_salesforce_flow)
    web_app.router.add_post("/crm/salesforce/outbound", from_salesforce_outbound)


def signed_uri(request: web.Request) -> str:
    """The URL the CRM called, as it signed it: behind a load balancer, the public scheme
    and host it forwards (a forged header can only make a signature fail to match)."""
    scheme = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
    host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
    return f"{scheme}://{host}{request.raw_path}"


def _team(request: web.Request) -> str | None:
    team = request.query.get("team_id")
    return team[:32] if team else None


def _door_response(answer: DoorAnswer) -> web.Response:
    if answer.content_type == "application/json":
        return web.json_response(answer.body, status=answer.status, headers=answer.headers)
    return web.Response(
        body=answer.body,
        status=answer.status,
        headers=answer.headers,
        content_type=answer.content_type,
        charset="utf-8",
    )


def _healthz(services: Services):
    async def handle(request: web.Request) -> web.Response:
        if await services.db.on_engine(ping):
            return web.json_response({"ok": True, "database": "ok"})
        return web.json_response({"ok": False, "database": "unreachable"}, status=503)

    return handle


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status, headers=headers)
