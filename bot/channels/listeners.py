"""Events API callbacks about people and channels: someone changes (or leaves), a channel
is shared outside the company or stops being, an outsider joins an account channel.

A person's change lives here rather than in `bot.people` because leaving touches the
channels they were reachable in (`bot.channels.unreachable`), and channels sit above people.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.channels.internal import on_channel_event
from bot.channels.unreachable import on_deactivated
from bot.people.directory import is_outsider, remember_user, zone_of
from bot.platform.listening import services_of
from bot.platform.services import Services
from storage.accounts import account_in_channel
from storage.outbox import rezone
from storage.people import get_person

SUBCOMMANDS = ()


async def on_user_change(event: dict, context: dict) -> None:
    services = services_of(context)
    team, user = context["team_id"], event["user"]
    if user.get("deleted"):
        await on_deactivated(services, team, user)  # remembers them too
        return
    await remember_user(services, team, user)
    # A moved time zone moves every local-hour message still owed to this person
    # (the same local date and hour, in the new zone).
    known = await services.db.run(get_person, team, user["id"])
    tz = zone_of(known, services.settings.timezone)
    await services.db.run(rezone, team, user["id"], tz.key, immediate=True)


# Someone shares an account channel outside the company: nothing internal goes there.
async def on_channel_shared(event: dict, context: dict) -> None:
    channel = str(event.get("channel") or "")
    await on_channel_event(
        services_of(context), context["team_id"], channel, True, "channel_shared"
    )


async def on_channel_unshared(event: dict, context: dict) -> None:
    channel, still = str(event.get("channel") or ""), bool(event.get("is_ext_shared"))
    await on_channel_event(
        services_of(context), context["team_id"], channel, still, "channel_unshared"
    )


async def on_member_joined(event: dict, context: dict) -> None:
    services = services_of(context)
    team, channel = context["team_id"], str(event.get("channel") or "")
    if not await services.db.run(account_in_channel, team, channel):
        return
    outsider = bool(event.get("team")) and event.get("team") != team
    if not outsider:
        response = await services.client.users_info(user=str(event.get("user") or ""))
        outsider = is_outsider(response["user"], team)
    if outsider:
        await on_channel_event(services, team, channel, True, "an outsider joined")


def register(app: AsyncApp, services: Services) -> None:
    app.event("user_change")(on_user_change)
    app.event("channel_shared")(on_channel_shared)
    app.event("channel_unshared")(on_channel_unshared)
    app.event("member_joined_channel")(on_member_joined)
