"""Button clicks."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.load import Refusal
from bot.checkins import service as checkin_flow
from bot.checkins.blocks import CHECKIN_EDIT, CHECKIN_OPEN, CLARIFY_OPEN, RATE_OPEN
from bot.handoff import packet as packet_flow
from bot.handoff.blocks import ACKNOWLEDGE, KICKOFF_HELD, OPEN_MARKETING, OPEN_PACKET, QUESTIONS
from bot.outbox.owe import deliver_now
from bot.ownership.home_blocks import HELP_ACTION
from bot.platform.help import help_blocks
from bot.platform.kit import modal
from bot.platform.services import Services
from bot.renewal import flag, outcome
from bot.renewal import service as renewal_flow
from bot.renewal.blocks import (
    CHURNED,
    DONE,
    FLAG,
    HANDBACK_HELD,
    HELP,
    RENEWED,
    SNOOZE,
    SNOOZE_DAYS,
)
from flows.packet import Part

# Slack wants the ack within 3 s: work before it gets this long (see commit_then_ack).
ACK_BUDGET_S = 1.5


async def explain(
    respond: AsyncRespond, work: Awaitable[None], client: AsyncWebClient, user: str
) -> None:
    """Run the work; a refusal becomes a sentence only the clicker sees."""
    try:
        await work
    except Refusal as refusal:
        await tell(respond, client, user, str(refusal))


async def tell(respond: AsyncRespond, client: AsyncWebClient, user: str, text: str) -> None:
    """Ephemeral, under the message clicked; a click without a response_url (one in a
    modal or the App Home) gets a DM instead."""
    if respond.response_url is None:
        await client.chat_postMessage(channel=user, text=text)
    else:
        await respond(text=text, response_type="ephemeral", replace_original=False)


async def commit_then_ack(
    ack: AsyncAck, respond: AsyncRespond, services: Services, user: str, work: Awaitable[list[int]]
) -> None:
    """A click whose unit (domain change and what it owes) commits before the ack, so a
    crash after the ack loses nothing; then what it owes is delivered. Work that needs Slack
    first (who may) and is slow gets ACK_BUDGET_S, then the ack goes out regardless."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task}, timeout=ACK_BUDGET_S)
    await ack()
    try:
        owed = await task
    except Refusal as refusal:
        await tell(respond, services.client, user, str(refusal))
        return
    await deliver_now(services, owed)


def _ids(body: dict) -> tuple[str, str, str | None]:
    action = body["actions"][0]
    return body["team"]["id"], body["user"]["id"], action.get("value")


def register(app: AsyncApp, services: Services) -> None:
    @app.action(HELP_ACTION)
    async def open_help(ack: AsyncAck, body: dict, client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(
            trigger_id=body["trigger_id"], view=modal("Baton commands", help_blocks())
        )

    def opens(part: Part) -> Callable[..., Awaitable[None]]:
        async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
            await ack()
            team, user, value = _ids(body)
            work = packet_flow.open_packet(services, team, value, user, part, body["trigger_id"])
            await explain(respond, work, services.client, user)

        return handler

    def does(flow: Callable[[Services, str, str | None, str], Awaitable[None]]):  # noqa: ANN202
        async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
            await ack()
            team, user, value = _ids(body)
            await explain(respond, flow(services, team, value, user), services.client, user)

        return handler

    def commits(flow: Callable[[Services, str, str | None, str], Awaitable[list[int]]]):  # noqa: ANN202
        async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
            team, user, value = _ids(body)
            await commit_then_ack(ack, respond, services, user, flow(services, team, value, user))

        return handler

    def snoozes(days: str):  # noqa: ANN202
        async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
            await ack()
            team, user, value = _ids(body)
            try:
                text = await renewal_flow.snooze_for(services, team, value, user, days)
            except Refusal as refusal:
                text = str(refusal)
            await tell(respond, services.client, user, text)

        return handler

    def opens_with(flow: Callable[..., Awaitable[None]]):  # noqa: ANN202
        async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
            await ack()
            team, user, value = _ids(body)
            work = flow(services, team, value, user, body["trigger_id"])
            await explain(respond, work, services.client, user)

        return handler

    app.action(CHECKIN_OPEN)(opens_with(checkin_flow.open_checkin))
    app.action(CHECKIN_EDIT)(opens_with(checkin_flow.open_checkin_edit))
    app.action(CLARIFY_OPEN)(opens_with(checkin_flow.open_clarify))
    app.action(RATE_OPEN)(opens_with(checkin_flow.open_rating))
    app.action(DONE)(opens_with(renewal_flow.open_done))
    app.action(FLAG)(opens_with(flag.open_flag))
    app.action(RENEWED)(opens_with(outcome.open_renewed))
    app.action(CHURNED)(opens_with(outcome.open_churned))
    app.action(HANDBACK_HELD)(does(outcome.handback_held))
    app.action(HELP)(does(renewal_flow.ask_for_help))
    for days in SNOOZE_DAYS:
        app.action(f"{SNOOZE}_{days}")(snoozes(days))
    app.action(OPEN_PACKET)(opens(Part.AE))
    app.action(OPEN_MARKETING)(opens(Part.MARKETING))
    app.action(ACKNOWLEDGE)(does(packet_flow.acknowledge))
    app.action(QUESTIONS)(does(packet_flow.ask_questions))
    app.action(KICKOFF_HELD)(commits(packet_flow.record_kickoff))
