"""`/baton …`: parse, answer ephemerally, well inside Slack's 3-second window."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.handoff import new_account_modal
from bot.blocks.help import SUBCOMMANDS, help_blocks, help_text
from bot.services import Services

KNOWN = {sub.name for sub in SUBCOMMANDS}


def split_subcommand(text: str) -> tuple[str, str]:
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    return words[0].lower(), words[1] if len(words) > 1 else ""


def register(app: AsyncApp, services: Services) -> None:
    @app.command("/baton")
    async def baton(ack: AsyncAck, command: dict, client: AsyncWebClient) -> None:
        name, _rest = split_subcommand(command.get("text", ""))
        if name == "new":
            await ack()
            threshold = services.settings.baton_arr_threshold
            hint = f"At or above {threshold:,.0f} the AE keeps the commercial relationship."
            await client.views_open(trigger_id=command["trigger_id"], view=new_account_modal(hint))
            return
        preface = None
        if name not in KNOWN:
            preface = f"I don't know `{name[:40]}`. Here is what I can do:"
        await ack(response_type="ephemeral", text=help_text(), blocks=help_blocks(preface))
