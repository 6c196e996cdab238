"""Events API callbacks other than the App Home."""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncApp

from bot.directory import remember_user, zone_of
from bot.services import Services
from bot.unreachable import on_deactivated
from storage.outbox import rezone
from storage.people import get_person


def register(app: AsyncApp, services: Services) -> None:
    @app.event("user_change")
    async def on_user_change(event: dict, context: dict) -> None:
        team, user = context["team_id"], event["user"]
        if user.get("deleted"):
            await on_deactivated(services, team, user)  # remembers them too
            return
        await remember_user(services, team, user)
        # A moved time zone moves every local-hour message still owed to this person
        # (the same local date and hour, in the new zone).
        known = await asyncio.to_thread(get_person, services.engine, team, user["id"])
        tz = zone_of(known, services.settings.timezone)
        await asyncio.to_thread(rezone, services.engine, team, user["id"], tz.key)
