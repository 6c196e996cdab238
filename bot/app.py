"""The Bolt app, constructed explicitly from our settings."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

from bot import listeners
from bot.services import Services
from bot.slack_client import bolt_env_masked

log = logging.getLogger(__name__)


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
        )
    listeners.register(app, services)

    @app.error
    async def on_error(error: Exception, body: dict) -> None:
        log.exception("listener failed for %s", body.get("type"), exc_info=error)

    return app
