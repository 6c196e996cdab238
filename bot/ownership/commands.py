"""`/baton owner | week | renewals | pending | cover | assign | history`: read the words,
call the ownership code, and hand back what to answer (text and blocks)."""

from __future__ import annotations

from bot.accounts.load import Refusal
from bot.accounts.lookup import find_accounts, which_account
from bot.ownership import answers, changes
from bot.ownership.history import history_answer
from bot.platform.kit import Block, esc
from bot.platform.services import Services
from flows.ownership_args import (
    mentioned_user,
    parse_assign,
    parse_cover,
    parse_days,
    parse_history,
)

Answer = tuple[str, list[Block]]
OWNERSHIP_COMMANDS = ("owner", "week", "renewals", "pending", "cover", "assign", "history")


async def answer(services: Services, name: str, text: str, command: dict) -> Answer:
    """The answer to one ownership subcommand; refusals come back as their sentence."""
    try:
        return await _HANDLERS[name](services, text, command)
    except Refusal as refusal:
        return str(refusal), []


async def _owner(services: Services, text: str, command: dict) -> Answer:
    team = command["team_id"]
    words = text.split()
    person = mentioned_user(words[0]) if len(words) == 1 else None
    if person:
        return await answers.person_owner_answer(services, team, person)
    return await answers.account_answer(
        services, team, text, command.get("channel_id"), "/baton owner <account>"
    )


async def _week(services: Services, text: str, command: dict) -> Answer:
    return await answers.week_answer(services, command["team_id"], command["user_id"])


async def _renewals(services: Services, text: str, command: dict) -> Answer:
    days = parse_days(text)
    if isinstance(days, str):
        return esc(days), []
    return await answers.renewals_answer(services, command["team_id"], command["user_id"], days)


async def _pending(services: Services, text: str, command: dict) -> Answer:
    return await answers.pending_answer(services, command["team_id"], command["user_id"])


async def _cover(services: Services, text: str, command: dict) -> Answer:
    request = parse_cover(text, services.today())
    if isinstance(request, str):
        return esc(request), []
    return await changes.cover(services, command["team_id"], command["user_id"], request), []


async def _one(services: Services, command: dict, text: str, usage: str):  # noqa: ANN202
    accounts = await find_accounts(services, command["team_id"], text, command.get("channel_id"))
    if len(accounts) == 1:
        return accounts[0]
    raise Refusal(which_account(text, accounts, usage))


async def _assign(services: Services, text: str, command: dict) -> Answer:
    request = parse_assign(text)
    if isinstance(request, str):
        return esc(request), []
    account = await _one(
        services, command, request.account, "/baton assign <account> ae|csm|am @person"
    )
    result = await changes.assign(
        services, command["team_id"], command["user_id"], account, request.role, request.user
    )
    return result, []


async def _history(services: Services, text: str, command: dict) -> Answer:
    request = parse_history(text, services.today())
    if isinstance(request, str):
        return esc(request), []
    account = await _one(services, command, request.account, "/baton history <account>")
    return await history_answer(services, account, request.on)


_HANDLERS = {
    "owner": _owner,
    "week": _week,
    "renewals": _renewals,
    "pending": _pending,
    "cover": _cover,
    "assign": _assign,
    "history": _history,
}
