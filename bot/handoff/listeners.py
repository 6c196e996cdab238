"""The handoff's listeners: `/baton new | reopen`, the packet's buttons, and the packet and
new-account modals."""

from __future__ import annotations

from collections.abc import Awaitable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.handoff import packet
from bot.handoff.blocks import (
    ACKNOWLEDGE,
    KICKOFF_HELD,
    MARKETING_VIEW,
    NEW_ACCOUNT_VIEW,
    OPEN_MARKETING,
    OPEN_PACKET,
    PACKET_VIEW,
    QUESTIONS,
    new_account_modal,
)
from bot.handoff.new_account import NOT_A_CREATOR, check_new_account, create_new_account
from bot.handoff.reopen import reopen
from bot.outbox.owe import deliver_now
from bot.people.permissions import creator_kind
from bot.platform.commands import Answer, Slash, Subcommand
from bot.platform.listening import (
    Listener,
    ack_after,
    answered,
    does,
    explain,
    ids,
    services_of,
    tell,
    validated,
)
from bot.platform.refusal import Refusal
from bot.platform.services import Services
from flows.packet import Part


# --- /baton new | reopen ------------------------------------------------------------------
async def new(call: Slash) -> None:
    """Ack first, then the refusal or the form."""
    await call.ack()
    services = call.services
    if await creator_kind(services, call.team, call.user) is None:
        await call.respond(text=NOT_A_CREATOR, response_type="ephemeral")
        return
    threshold = services.settings.baton_arr_threshold
    hint = f"At or above {threshold:,.0f} the AE keeps the commercial relationship."
    await services.client.views_open(trigger_id=call.trigger_id, view=new_account_modal(hint))


async def _reopen(services: Services, text: str, command: dict) -> Answer:
    return await reopen(services, text, command), []


SUBCOMMANDS = (
    Subcommand(
        "reopen",
        "reopen <account> [#channel]",
        "Give an account a working channel again when its channel was archived, Baton was "
        "removed from it, or Slack would not let Baton create one: a new channel, or the one "
        "you name (invite @Baton first). Managers and workspace admins only.",
        "/baton reopen acme",
        "managers and workspace admins",
        answered(_reopen),
        rank=70,
    ),
    Subcommand(
        "new",
        "new",
        "Start the handoff for a closed-won deal (without a CRM hook).",
        "/baton new",
        "AEs Baton knows, BATON_CREATORS, managers and workspace admins",
        new,
        rank=90,
    ),
)


# --- buttons and modals -------------------------------------------------------------------
def opens(part: Part) -> Listener:
    async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond, context: dict) -> None:
        await ack()
        services = services_of(context)
        team, user, value = ids(body)
        work = packet.open_packet(services, team, value, user, part, body["trigger_id"])
        await explain(respond, work, services.client, user)

    return handler


async def close_packet(ack: AsyncAck, body: dict, view: dict, context: dict) -> None:
    await ack()
    services = services_of(context)
    await packet.keep_draft(services, body["team"]["id"], body["user"]["id"], view)


async def submit_new_account(ack: AsyncAck, body: dict, view: dict, context: dict) -> None:
    services = services_of(context)
    team, user = body["team"]["id"], body["user"]["id"]
    result = await check_new_account(services, team, user, view)
    if isinstance(result, dict):
        await ack(response_action="errors", errors=result)
        return
    await ack()
    await create_new_account(services, team, user, result)


submit_packet = validated(packet.check_submission, packet.save, packet.announce)
acknowledge = does(packet.acknowledge)
ask_questions = does(packet.ask_questions)


async def _commit_then_ack(
    ack: AsyncAck, respond: AsyncRespond, services: Services, user: str, work: Awaitable[list[int]]
) -> None:
    """A click whose unit (domain change and what it owes) commits before the ack, so a
    crash after the ack loses nothing; then what it owes is delivered. Work that needs Slack
    first (who may) and is slow gets ACK_BUDGET_S, then the ack goes out regardless."""
    try:
        owed = await ack_after(work, ack)
    except Refusal as refusal:
        await tell(respond, services.client, user, str(refusal))
        return
    await deliver_now(services, owed)


async def kickoff_held(ack: AsyncAck, body: dict, respond: AsyncRespond, context: dict) -> None:
    services = services_of(context)
    team, user, value = ids(body)
    await _commit_then_ack(
        ack, respond, services, user, packet.record_kickoff(services, team, value, user)
    )


def register(app: AsyncApp, services: Services) -> None:
    app.action(OPEN_PACKET)(opens(Part.AE))
    app.action(OPEN_MARKETING)(opens(Part.MARKETING))
    app.action(ACKNOWLEDGE)(acknowledge)
    app.action(QUESTIONS)(ask_questions)
    app.action(KICKOFF_HELD)(kickoff_held)
    for callback_id in (PACKET_VIEW, MARKETING_VIEW):
        app.view(callback_id)(submit_packet)
        app.view_closed(callback_id)(close_packet)
    app.view(NEW_ACCOUNT_VIEW)(submit_new_account)
