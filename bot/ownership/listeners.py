"""Ownership's listeners: its `/baton` subcommands, the App Home (published fresh every
time a user opens it, and on paging) and the home's "Show commands" button."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.ownership import commands
from bot.ownership.home import dashboard
from bot.ownership.home_blocks import HELP_ACTION, PAGE_ACTION, home_view
from bot.people.directory import first_name, person
from bot.platform.help import help_blocks
from bot.platform.kit import modal
from bot.platform.listening import services_of
from bot.platform.services import Services

SUBCOMMANDS = commands.SUBCOMMANDS


async def publish_home(
    services: Services, client: AsyncWebClient, team_id: str, user_id: str, page: int = 0
) -> None:
    who = await person(services, client, team_id, user_id)
    board = await dashboard(services, team_id, user_id)
    await client.views_publish(
        user_id=user_id, view=home_view(first_name(who), board, page, services.today())
    )


async def on_home_opened(event: dict, client: AsyncWebClient, context: dict) -> None:
    if event.get("tab", "home") != "home":
        return
    await publish_home(services_of(context), client, context["team_id"], event["user"])


async def on_page(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
    await ack()
    try:
        page = int(body["actions"][0].get("value") or 0)
    except (TypeError, ValueError):
        page = 0
    services = services_of(context)
    await publish_home(services, client, context["team_id"], body["user"]["id"], page)


async def open_help(ack: AsyncAck, body: dict, client: AsyncWebClient, context: dict) -> None:
    await ack()
    blocks = help_blocks(services_of(context).commands)
    await client.views_open(trigger_id=body["trigger_id"], view=modal("Baton commands", blocks))


def register(app: AsyncApp, services: Services) -> None:
    app.event("app_home_opened")(on_home_opened)
    app.action(f"{PAGE_ACTION}_prev")(on_page)
    app.action(f"{PAGE_ACTION}_next")(on_page)
    app.action(HELP_ACTION)(open_help)
