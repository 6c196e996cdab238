"""Button clicks."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.help import help_blocks
from bot.blocks.home import HELP_ACTION
from bot.blocks.kit import modal
from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.action(HELP_ACTION)
    async def open_help(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"], view=modal("Baton commands", help_blocks())
        )
