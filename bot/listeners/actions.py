"""Button clicks."""

from __future__ import annotations

from collections.abc import Awaitable

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.handoff import ACKNOWLEDGE, KICKOFF_HELD, OPEN_MARKETING, OPEN_PACKET, QUESTIONS
from bot.blocks.help import help_blocks
from bot.blocks.home import HELP_ACTION
from bot.blocks.kit import modal
from bot.handoff import packet_flow
from bot.handoff.packet_flow import Refusal
from bot.services import Services
from flows.packet import Part


async def explain(respond: AsyncRespond, work: Awaitable[None]) -> None:
    """Run the work; a refusal becomes a sentence only the clicker sees."""
    try:
        await work
    except Refusal as refusal:
        await respond(text=str(refusal), response_type="ephemeral", replace_original=False)


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

    @app.action(OPEN_PACKET)
    async def open_packet(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        team, user, value = _ids(body)
        await explain(
            respond,
            packet_flow.open_packet(services, team, value, user, Part.AE, body["trigger_id"]),
        )

    @app.action(OPEN_MARKETING)
    async def open_marketing(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        team, user, value = _ids(body)
        await explain(
            respond,
            packet_flow.open_packet(
                services, team, value, user, Part.MARKETING, body["trigger_id"]
            ),
        )

    @app.action(ACKNOWLEDGE)
    async def acknowledge(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        team, user, value = _ids(body)
        await explain(respond, packet_flow.acknowledge(services, team, value, user))

    @app.action(QUESTIONS)
    async def questions(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        team, user, value = _ids(body)
        await explain(respond, packet_flow.ask_questions(services, team, value, user))

    @app.action(KICKOFF_HELD)
    async def kickoff(ack: AsyncAck, body: dict, respond: AsyncRespond) -> None:
        await ack()
        team, user, value = _ids(body)
        await explain(respond, packet_flow.kickoff_held(services, team, value, user))
