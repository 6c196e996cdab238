"""`/baton …`: parse, answer ephemerally, well inside Slack's 3-second window."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts import Refusal
from bot.blocks.handoff import new_account_modal
from bot.blocks.help import SUBCOMMANDS, help_blocks, help_text
from bot.checkins import flow as checkin_flow
from bot.lookup import find_accounts, pick_list
from bot.services import Services

KNOWN = {sub.name for sub in SUBCOMMANDS}


def _which(text: str, accounts: list) -> str:
    if not text.strip():
        return (
            "Which account? Run `/baton checkin <account>` (a name, CRM id or #channel), "
            "or run it inside the account's channel."
        )
    if not accounts:
        return f"I found no account matching “{text.strip()[:80]}”. Try its name or CRM id."
    return f"Several accounts match “{text.strip()[:80]}”; say which:\n{pick_list(accounts)}"


def split_subcommand(text: str) -> tuple[str, str]:
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    return words[0].lower(), words[1] if len(words) > 1 else ""


def register(app: AsyncApp, services: Services) -> None:
    async def _checkin(ack: AsyncAck, command: dict, text: str) -> None:
        team, user = command["team_id"], command["user_id"]
        accounts = await find_accounts(services, team, text, command.get("channel_id"))
        if len(accounts) != 1:
            await ack(response_type="ephemeral", text=_which(text, accounts))
            return
        await ack()
        try:
            await checkin_flow.open_checkin(
                services, team, accounts[0].id, user, command["trigger_id"]
            )
        except Refusal as refusal:
            await services.client.chat_postEphemeral(
                channel=command["channel_id"], user=user, text=str(refusal)
            )

    @app.command("/baton")
    async def baton(ack: AsyncAck, command: dict, client: AsyncWebClient) -> None:
        name, _rest = split_subcommand(command.get("text", ""))
        if name == "new":
            await ack()
            threshold = services.settings.baton_arr_threshold
            hint = f"At or above {threshold:,.0f} the AE keeps the commercial relationship."
            await client.views_open(trigger_id=command["trigger_id"], view=new_account_modal(hint))
            return
        if name == "checkin":
            await _checkin(ack, command, _rest)
            return
        preface = None
        if name not in KNOWN:
            preface = f"I don't know `{name[:40]}`. Here is what I can do:"
        await ack(response_type="ephemeral", text=help_text(), blocks=help_blocks(preface))
