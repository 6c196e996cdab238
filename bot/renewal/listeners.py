"""The renewal clock's listeners: `/baton renewed | churned`, the nudges' buttons, and the
modals they open."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.accounts.load import Refusal
from bot.accounts.lookup import find_accounts, which_account
from bot.platform.commands import Slash, Subcommand
from bot.platform.kit import esc
from bot.platform.listening import (
    Listener,
    ack_after,
    checked,
    does,
    ids,
    opens_with,
    services_of,
    tell,
)
from bot.platform.services import Services
from bot.renewal import close, flag, outcome, service
from bot.renewal.blocks import (
    ASK_MORE,
    ASK_MORE_VIEW,
    CHECKLIST_VIEW,
    CHURNED,
    CHURNED_VIEW,
    DONE,
    DONE_VIEW,
    FLAG,
    FLAG_VIEW,
    HANDBACK_HELD,
    HELP,
    NOT_YET,
    NOT_YET_VIEW,
    RENEWED,
    RENEWED_VIEW,
    SIGNED,
    SNOOZE,
    SNOOZE_DAYS,
)
from flows.outcomes import RenewedArgs, next_renewal_date, parse_renewed, renewal_problems
from storage.models import Account


# --- /baton renewed | churned -------------------------------------------------------------
async def _one_account(call: Slash, text: str, usage: str) -> Account | None:
    accounts = await find_accounts(call.services, call.team, text, call.channel)
    if len(accounts) == 1:
        return accounts[0]
    await call.ack(response_type="ephemeral", text=which_account(text, accounts, usage))
    return None


async def renewed(call: Slash) -> None:
    """Everything that can be refused is refused in the ack; the recording comes with it."""
    services = call.services
    usage = "/baton renewed <account> [YYYY-MM-DD] [ARR]"
    parsed = parse_renewed(call.text) if call.text.strip() else RenewedArgs("")
    if isinstance(parsed, str):
        await call.ack(response_type="ephemeral", text=esc(parsed))
        return
    account = await _one_account(call, parsed.account, usage)
    if account is None:
        return
    try:
        await outcome.recordable(services, call.team, account.id, call.user)
    except Refusal as refusal:
        await call.ack(response_type="ephemeral", text=str(refusal))
        return
    new_date = parsed.new_date or next_renewal_date(account.renewal_date, account.term_months)
    problem = renewal_problems(account.renewal_date, new_date, services.today())
    if problem:
        await call.ack(response_type="ephemeral", text=problem)
        return
    renewal = outcome.Renewal(
        account.id, account.renewal_date, new_date, parsed.new_arr or account.arr, None
    )
    # The ack waits for the recording's unit of work (a crash after it loses nothing),
    # for ACK_BUDGET_S at most.
    recording = f"Recording the renewal of {esc(account.name)} (next renewal {new_date:%d %b %Y})."
    try:
        await ack_after(
            outcome.record_renewed(services, call.team, call.user, renewal),
            lambda: call.ack(response_type="ephemeral", text=recording),
        )
    except Refusal as refusal:
        await call.respond(response_type="ephemeral", text=str(refusal))


async def churned(call: Slash) -> None:
    """Refusals in the ack; then ack first and open the churn form."""
    account = await _one_account(call, call.text, "/baton churned <account>")
    if account is None:
        return
    try:
        await outcome.recordable(call.services, call.team, account.id, call.user)
    except Refusal as refusal:
        await call.ack(response_type="ephemeral", text=str(refusal))
        return
    await call.ack()
    await outcome.open_churned(call.services, call.team, account.id, call.user, call.trigger_id)


RECORDERS = "the account's AE, CSM or AM, whoever covers for them, and managers"
SUBCOMMANDS = (
    Subcommand(
        "renewed",
        "renewed <account> [new renewal date] [new ARR]",
        "Record a renewal: the next cycle is planned and the hand-back to the CSM posted. "
        "The date defaults to one more term, the ARR to today's.",
        "/baton renewed acme 2028-03-31 120k",
        RECORDERS,
        renewed,
        rank=110,
    ),
    Subcommand(
        "churned",
        "churned <account>",
        "Record a churn with its root cause; every nudge still owed stops.",
        "/baton churned acme",
        RECORDERS,
        churned,
        rank=120,
    ),
)


# --- buttons and modals -------------------------------------------------------------------
def snoozes(days: str) -> Listener:
    async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond, context: dict) -> None:
        await ack()
        services = services_of(context)
        team, user, value = ids(body)
        try:
            text = await service.snooze_for(services, team, value, user, days)
        except Refusal as refusal:
            text = str(refusal)
        await tell(respond, services.client, user, text)

    return handler


async def mark_signed(ack: AsyncAck, body: dict, respond: AsyncRespond, context: dict) -> None:
    await ack()
    services = services_of(context)
    team, user, value = ids(body)
    try:
        text = await close.signed(services, team, value, user)
    except Refusal as refusal:
        text = str(refusal)
    await tell(respond, services.client, user, text)


async def submit_not_yet(ack: AsyncAck, body: dict, view: dict, context: dict) -> None:
    """Inline errors keep the modal open; else it closes once the answer is recorded."""
    services = services_of(context)
    team, user = body["team"]["id"], body["user"]["id"]
    result = await close.check_not_yet(services, team, user, view)
    if isinstance(result, dict):
        await ack(response_action="errors", errors=result)
        return
    await ack_after(close.record_not_yet(services, user, result), ack)


async def submit_renewed(ack: AsyncAck, body: dict, view: dict, context: dict) -> None:
    services = services_of(context)
    team, user = body["team"]["id"], body["user"]["id"]
    result = await outcome.check_renewed(services, team, user, view)
    if isinstance(result, dict):
        await ack(response_action="errors", errors=result)
        return
    await ack()
    await outcome.renewed_from_view(services, result, team, user)


open_done = opens_with(service.open_done)
open_ask_more = opens_with(service.open_ask_more)
open_flag = opens_with(flag.open_flag)
open_renewed = opens_with(outcome.open_renewed)
open_churned = opens_with(outcome.open_churned)
open_not_yet = opens_with(close.open_not_yet)
handback_held = does(outcome.handback_held)
ask_for_help = does(service.ask_for_help)
submit_done = checked(service.done_problems, service.submit_done)
submit_checklist = checked(service.checklist_problems, service.submit_checklist)
submit_ask_more = checked(service.ask_more_problems, service.submit_ask_more)
submit_flag = checked(flag.problems, flag.submit_flag)
submit_churned = checked(outcome.churn_problems, outcome.submit_churned)


def register(app: AsyncApp, services: Services) -> None:
    app.action(DONE)(open_done)
    app.action(ASK_MORE)(open_ask_more)
    app.action(FLAG)(open_flag)
    app.action(RENEWED)(open_renewed)
    app.action(CHURNED)(open_churned)
    app.action(HANDBACK_HELD)(handback_held)
    app.action(SIGNED)(mark_signed)
    app.action(NOT_YET)(open_not_yet)
    app.action(HELP)(ask_for_help)
    for days in SNOOZE_DAYS:
        app.action(f"{SNOOZE}_{days}")(snoozes(days))
    app.view(DONE_VIEW)(submit_done)
    app.view(CHECKLIST_VIEW)(submit_checklist)
    app.view(ASK_MORE_VIEW)(submit_ask_more)
    app.view(FLAG_VIEW)(submit_flag)
    app.view(CHURNED_VIEW)(submit_churned)
    app.view(RENEWED_VIEW)(submit_renewed)
    app.view(NOT_YET_VIEW)(submit_not_yet)
