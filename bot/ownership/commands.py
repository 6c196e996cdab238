"""`/baton owner | week | renewals | pending | cover | assign | history`: read the words,
call the ownership code, and hand back what to answer (text and blocks). Each is answered
in time (`answered`): inside the ack when quick, else through respond()."""

from __future__ import annotations

from bot.accounts.load import Refusal
from bot.accounts.lookup import find_accounts, which_account
from bot.ownership import answers, changes
from bot.ownership.history import history_answer
from bot.platform.commands import Answer, Subcommand
from bot.platform.kit import esc
from bot.platform.listening import answered
from bot.platform.services import Services
from flows.ownership_args import (
    mentioned_user,
    parse_assign,
    parse_cover,
    parse_days,
    parse_history,
)


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
        services, command, request.account, "/baton assign <account> ae|csm|am|ops @person"
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


SUBCOMMANDS = (
    Subcommand(
        "owner",
        "owner <account | CRM id | #channel | @person>",
        "Who owns an account this week: phase, owners and why, next milestone, anything "
        "overdue, coverage. With a person: the accounts they own this week and in what role.",
        "/baton owner acme",
        "anyone in the workspace",
        answered(_owner),
        rank=10,
    ),
    Subcommand(
        "week",
        "week",
        "This week for your team: accounts changing hands, milestones due, overdue items, "
        "at-risk accounts.",
        "/baton week",
        "anyone (managers see their team, others their own accounts)",
        answered(_week),
        rank=20,
    ),
    Subcommand(
        "renewals",
        "renewals [days]",
        "Renewals coming up in the next 90 days (or as many as you say), with their owners.",
        "/baton renewals 30",
        "anyone (managers see their team, others their own accounts)",
        answered(_renewals),
        rank=30,
    ),
    Subcommand(
        "pending",
        "pending",
        "Handoff packets not complete yet, and what is missing.",
        "/baton pending",
        "anyone (managers see their team, others their own accounts)",
        answered(_pending),
        rank=40,
    ),
    Subcommand(
        "cover",
        "cover @person with @backup until <date>",
        "While someone is away, their ownership answers and nudges go to the backup, marked "
        "as coverage. `cover @person off` ends it early.",
        "/baton cover @chen with @sam until 2027-01-15",
        "the person themselves, a manager of their accounts and workspace admins",
        answered(_cover),
        rank=50,
    ),
    Subcommand(
        "assign",
        "assign <account> ae|csm|am|ops @person",
        "Reassign a role on an account (managers and workspace admins only; audited).",
        "/baton assign acme csm @sam",
        "managers and workspace admins",
        answered(_assign),
        rank=60,
    ),
    Subcommand(
        "history",
        "history <account> [on <date>]",
        "Who owned the account when, with coverage and model changes; or on one day.",
        "/baton history acme on 2027-03-03",
        "anyone in the workspace",
        answered(_history),
        rank=80,
    ),
)
