"""Account channels in Slack: creating one under a free name, and bringing people in."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.services import Services
from flows.channel_names import channel_name
from storage.models import Account

MAX_NAME_ATTEMPTS = 50


async def create_channel(services: Services, account: Account, prefix: str) -> dict:
    """A new channel named for the account (`-2`, `-3`… when the name is taken)."""
    private = services.settings.baton_channel_private
    for attempt in range(1, MAX_NAME_ATTEMPTS + 1):
        name = channel_name(account.name, account.crm_id, attempt, prefix)
        try:
            response = await services.client.conversations_create(name=name, is_private=private)
        except SlackApiError as exc:
            if exc.response.get("error") == "name_taken":
                continue
            raise
        return response["channel"]
    raise RuntimeError(f"no free channel name for {account.name!r} after {MAX_NAME_ATTEMPTS} tries")


async def invite_people(
    services: Services,
    account: Account,
    channel: str | None = None,
    roles: tuple[str, ...] = ("ae", "csm", "am", "manager"),
) -> None:
    """Bring the account's people (of `roles`) into its channel (or `channel`)."""
    channel = channel or account.channel_id
    wanted = {account.user_of(role) for role in roles} - {None}
    members = await services.client.conversations_members(channel=channel)
    missing = sorted(wanted - set(members["members"]))
    if not missing:
        return
    try:
        await services.client.conversations_invite(channel=channel, users=",".join(missing))
    except SlackApiError as exc:
        if exc.response.get("error") != "already_in_channel":
            raise
