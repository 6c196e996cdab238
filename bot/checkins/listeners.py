"""Check-ins' listeners: `/baton checkin`, the buttons that open its modals, and their
submissions."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.accounts.load import Refusal
from bot.accounts.lookup import find_accounts, which_account
from bot.checkins import service
from bot.checkins.blocks import (
    CHECKIN_EDIT,
    CHECKIN_OPEN,
    CHECKIN_VIEW,
    CLARIFY_OPEN,
    CLARIFY_VIEW,
    RATE_OPEN,
    RATING_VIEW,
)
from bot.platform.commands import Slash, Subcommand
from bot.platform.listening import checked, opens_with, validated
from bot.platform.services import Services


async def checkin(call: Slash) -> None:
    """Ack first (the modal needs the trigger while it is fresh), then open the form."""
    accounts = await find_accounts(call.services, call.team, call.text, call.channel)
    if len(accounts) != 1:
        answer = which_account(call.text, accounts, "/baton checkin <account>")
        await call.ack(response_type="ephemeral", text=answer)
        return
    await call.ack()
    try:
        await service.open_checkin(
            call.services, call.team, accounts[0].id, call.user, call.trigger_id
        )
    except Refusal as refusal:
        await call.respond(response_type="ephemeral", text=str(refusal))


SUBCOMMANDS = (
    Subcommand(
        "checkin",
        "checkin <account>",
        "Log a check-in (the CSM's weekly one, or any time). Inside an account channel "
        "the account can be left out.",
        "/baton checkin acme",
        "the account's CSM, whoever covers for them, and managers",
        checkin,
        rank=100,
    ),
)

open_checkin = opens_with(service.open_checkin)
open_checkin_edit = opens_with(service.open_checkin_edit)
open_clarify = opens_with(service.open_clarify)
open_rating = opens_with(service.open_rating)
submit_checkin = validated(service.check_checkin, service.save, service.announce)
submit_clarify = checked(service.clarify_problems, service.submit_clarify)
submit_rating = checked(service.rating_problems, service.submit_rating)


def register(app: AsyncApp, services: Services) -> None:
    app.action(CHECKIN_OPEN)(open_checkin)
    app.action(CHECKIN_EDIT)(open_checkin_edit)
    app.action(CLARIFY_OPEN)(open_clarify)
    app.action(RATE_OPEN)(open_rating)
    app.view(CHECKIN_VIEW)(submit_checkin)
    app.view(CLARIFY_VIEW)(submit_clarify)
    app.view(RATING_VIEW)(submit_rating)
