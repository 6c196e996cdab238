"""The App Home tab: published fresh every time a user opens it."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.blocks.home import home_view
from bot.directory import first_name, person
from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict, client: AsyncWebClient, context: dict) -> None:
        if event.get("tab", "home") != "home":
            return
        user_id = event["user"]
        who = await person(services, client, context["team_id"], user_id)
        await client.views_publish(user_id=user_id, view=home_view(first_name(who)))
