"""The Bolt app, constructed explicitly from our settings."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.platform.listening import WithServices
from bot.platform.services import Services
from bot.platform.slack_client import bolt_env_masked
from bot.runtime.features import register_listeners
from bot.runtime.guard import PayloadGuard
from bot.runtime.members_only import MembersOnly
from storage.db import is_outage, outage_reason

log = logging.getLogger(__name__)
OUTAGE = "Baton can't reach its database right now; please try again in a few minutes."


def build_app(services: Services, *, process_before_response: bool = False) -> AsyncApp:
    """`process_before_response=True` answers Slack only after listeners finish: for the
    demo's deterministic transcript, never for production (Slack wants an ack in 3 s)."""
    settings = services.settings
    verify = settings.slack_signing_secret is not None
    with bolt_env_masked():
        app = AsyncApp(
            name="baton",
            client=services.client,
            signing_secret=settings.slack_signing_secret or "",
            # Socket Mode requests arrive over an authenticated socket, not signed HTTP.
            request_verification_enabled=verify,
            installation_store=None,
            process_before_response=process_before_response,
            oauth_settings=None,
            logger=logging.getLogger("baton.bolt"),
            before_authorize=PayloadGuard(),
        )
    app.use(WithServices(services))
    app.use(MembersOnly(services))
    register_listeners(app, services)

    @app.error
    async def on_error(
        error: Exception, body: dict, response: BoltResponse | None
    ) -> BoltResponse | None:
        if is_outage(error):
            log.warning(
                "a Slack %s request met a database outage: %s",
                "slash command" if "command" in body else body.get("type"),
                outage_reason(error),
            )
            # Not acknowledged yet: say so to the person, instead of Slack's generic failure.
            return None if response is None else outage_response(body)
        if isinstance(error, SlackApiError):  # Slack's answer, not a fault of ours: one line
            log.warning(
                "a %s listener stopped: Slack said %s",
                body.get("type") or "Slack",
                error.response.get("error"),
            )
            return None
        log.exception("listener failed for %s", body.get("type"), exc_info=error)
        return None

    return app


def outage_response(body: dict) -> BoltResponse:
    """What Slack shows while the database is down: the sentence, where Slack shows one."""
    if "command" in body:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": OUTAGE})
    view = body.get("view") if body.get("type") == "view_submission" else None
    blocks = [b.get("block_id") for b in (view or {}).get("blocks", []) if b.get("type") == "input"]
    if blocks and blocks[0]:
        return BoltResponse(
            status=200, body={"response_action": "errors", "errors": {blocks[0]: OUTAGE}}
        )
    return BoltResponse(status=200, body="")
