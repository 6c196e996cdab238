"""Events API callbacks other than the App Home."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.directory import remember_user
from bot.services import Services


def register(app: AsyncApp, services: Services) -> None:
    @app.event("user_change")
    async def on_user_change(event: dict, context: dict) -> None:
        # A moved time zone must move every 09:00 nudge still owed to this person.
        await remember_user(services, context["team_id"], event["user"])
