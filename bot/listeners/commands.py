"""`/baton …`: parse, answer ephemerally, well inside Slack's 3-second window.

Slack shows an error unless the ack comes within 3 seconds. An answer that needs Slack
(users.info, user groups) may be slowed by rate limits: it gets ACK_BUDGET_S, then the
ack goes out and the answer follows through respond(). Refusals after the ack go through
respond() too, which works in any channel (chat.postEphemeral needs Baton in it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.accounts.load import Refusal
from bot.accounts.lookup import find_accounts, which_account
from bot.admin.status import status_answer
from bot.checkins import service as checkin_flow
from bot.handoff.blocks import new_account_modal
from bot.handoff.new_account import NOT_A_CREATOR
from bot.handoff.reopen import reopen
from bot.ownership import commands as ownership
from bot.ownership.commands import OWNERSHIP_COMMANDS
from bot.people.permissions import creator_kind
from bot.platform.help import SUBCOMMANDS, help_blocks, help_text
from bot.platform.kit import esc, slash_text
from bot.platform.services import Services
from bot.renewal import outcome
from flows.outcomes import RenewedArgs, next_renewal_date, parse_renewed, renewal_problems
from storage.models import Account

KNOWN = {sub.name for sub in SUBCOMMANDS}
ACK_BUDGET_S = 1.5
WORKING = "Working on it…"
SLACK_TROUBLE = "Slack did not answer me in time; please try again in a minute."
log = logging.getLogger(__name__)


async def answer_in_time(
    ack: AsyncAck, respond: AsyncRespond, work: Awaitable[tuple[str, list]]
) -> None:
    """Answer in the ack when the work is quick; else ack at once and answer later."""
    task = asyncio.ensure_future(_settled(work))
    done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_S)
    if done:
        text, blocks = task.result()
        await ack(response_type="ephemeral", text=text, blocks=blocks or None)
        return
    await ack(response_type="ephemeral", text=WORKING)
    text, blocks = await task
    await respond(response_type="ephemeral", text=text, blocks=blocks or None)


async def _settled(work: Awaitable[tuple[str, list]]) -> tuple[str, list]:
    try:
        return await work
    except SlackApiError as exc:
        log.warning("a /baton answer needed Slack, which said %s", exc.response.get("error"))
        return SLACK_TROUBLE, []


def split_subcommand(text: str) -> tuple[str, str]:
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    return words[0].lower(), words[1] if len(words) > 1 else ""


def register(app: AsyncApp, services: Services) -> None:
    async def _checkin(ack: AsyncAck, respond: AsyncRespond, command: dict, text: str) -> None:
        team, user = command["team_id"], command["user_id"]
        accounts = await find_accounts(services, team, text, command.get("channel_id"))
        if len(accounts) != 1:
            answer = which_account(text, accounts, "/baton checkin <account>")
            await ack(response_type="ephemeral", text=answer)
            return
        await ack()
        try:
            await checkin_flow.open_checkin(
                services, team, accounts[0].id, user, command["trigger_id"]
            )
        except Refusal as refusal:
            await respond(response_type="ephemeral", text=str(refusal))

    async def _one_account(ack: AsyncAck, command: dict, text: str, usage: str) -> Account | None:
        accounts = await find_accounts(
            services, command["team_id"], text, command.get("channel_id")
        )
        if len(accounts) == 1:
            return accounts[0]
        await ack(response_type="ephemeral", text=which_account(text, accounts, usage))
        return None

    async def _renewed(ack: AsyncAck, respond: AsyncRespond, command: dict, text: str) -> None:
        usage = "/baton renewed <account> [YYYY-MM-DD] [ARR]"
        parsed = parse_renewed(text) if text.strip() else RenewedArgs("")
        if isinstance(parsed, str):
            await ack(response_type="ephemeral", text=esc(parsed))
            return
        account = await _one_account(ack, command, parsed.account, usage)
        if account is None:
            return
        team, user = command["team_id"], command["user_id"]
        try:
            await outcome.recordable(services, team, account.id, user)
        except Refusal as refusal:
            await ack(response_type="ephemeral", text=str(refusal))
            return
        new_date = parsed.new_date or next_renewal_date(account.renewal_date, account.term_months)
        problem = renewal_problems(account.renewal_date, new_date, services.today())
        if problem:
            await ack(response_type="ephemeral", text=problem)
            return
        await ack(
            response_type="ephemeral",
            text=f"Recording the renewal of {esc(account.name)} "
            f"(next renewal {new_date:%d %b %Y}).",
        )
        renewal = outcome.Renewal(
            account.id, account.renewal_date, new_date, parsed.new_arr or account.arr, None
        )
        try:
            await outcome.record_renewed(services, team, user, renewal)
        except Refusal as refusal:
            await respond(response_type="ephemeral", text=str(refusal))

    async def _churned(ack: AsyncAck, command: dict, text: str) -> None:
        account = await _one_account(ack, command, text, "/baton churned <account>")
        if account is None:
            return
        try:
            await outcome.recordable(services, command["team_id"], account.id, command["user_id"])
        except Refusal as refusal:
            await ack(response_type="ephemeral", text=str(refusal))
            return
        await ack()
        await outcome.open_churned(
            services, command["team_id"], account.id, command["user_id"], command["trigger_id"]
        )

    async def _new(ack: AsyncAck, command: dict, respond: AsyncRespond) -> None:
        await ack()
        if await creator_kind(services, command["team_id"], command["user_id"]) is None:
            await respond(text=NOT_A_CREATOR, response_type="ephemeral")
            return
        threshold = services.settings.baton_arr_threshold
        hint = f"At or above {threshold:,.0f} the AE keeps the commercial relationship."
        await services.client.views_open(
            trigger_id=command["trigger_id"], view=new_account_modal(hint)
        )

    async def _reopen(command: dict, text: str) -> tuple[str, list]:
        try:
            return await reopen(services, text, command), []
        except Refusal as refusal:
            return str(refusal), []

    async def _status(command: dict) -> tuple[str, list]:
        return await status_answer(services, command["team_id"], command["user_id"]), []

    @app.command("/baton")
    async def baton(ack: AsyncAck, respond: AsyncRespond, command: dict) -> None:
        # The one place slash text enters: every subcommand reads it as the person typed it.
        name, _rest = split_subcommand(slash_text(command.get("text", "")))
        if name == "new":
            await _new(ack, command, respond)
            return
        if name == "checkin":
            await _checkin(ack, respond, command, _rest)
            return
        if name == "renewed":
            await _renewed(ack, respond, command, _rest)
            return
        if name == "churned":
            await _churned(ack, command, _rest)
            return
        if name == "status":
            await answer_in_time(ack, respond, _status(command))
            return
        if name in OWNERSHIP_COMMANDS:
            await answer_in_time(ack, respond, ownership.answer(services, name, _rest, command))
            return
        if name == "reopen":
            await answer_in_time(ack, respond, _reopen(command, _rest))
            return
        preface = None
        if name not in KNOWN:
            preface = f"I don't know `{esc(name[:40])}`. Here is what I can do:"
        await ack(response_type="ephemeral", text=help_text(), blocks=help_blocks(preface))
