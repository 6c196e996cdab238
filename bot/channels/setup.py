"""Account channels in Slack: creating one under a free name, and bringing people in."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.platform.services import Services
from flows.channel_names import channel_name
from storage.accounts import update_account
from storage.models import Account

log = logging.getLogger(__name__)
MAX_NAME_ATTEMPTS = 50


async def open_channel_for(
    services: Services, account: Account, prefix: str, id_field: str, name_field: str
) -> Account:
    """A new channel for the account, recorded at once in `id_field` / `name_field`: a
    retry must find this channel, not create a second one."""
    channel = await create_channel(services, account, prefix)
    return await services.db.run(
        update_account,
        account.team_id,
        account.id,
        **{id_field: channel["id"], name_field: channel["name"]},
        immediate=True,
    )


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
    roles: tuple[str, ...] = ("ae", "csm", "am", "ops", "manager"),
) -> None:
    """Bring the account's people (of `roles`) into its channel (or `channel`). One person
    Slack will not take (deactivated, a guest) never keeps out the others."""
    channel = channel or account.channel_id or ""
    wanted = {account.user_of(role) for role in roles} - {None}
    try:
        members = await services.client.conversations_members(channel=channel)
    except SlackApiError as exc:
        if exc.response.get("error") != "channel_not_found":  # Baton removed from it
            raise
        log.warning("account %s: cannot see channel %s to invite people", account.id, channel)
        return
    missing = sorted(wanted - set(members["members"]))
    if not missing:
        return
    try:
        await services.client.conversations_invite(channel=channel, users=",".join(missing))
    except SlackApiError as exc:
        refused = {e.get("user") for e in exc.response.get("errors") or [] if isinstance(e, dict)}
        if not refused:
            error = exc.response.get("error")
            if error in ("is_archived", "not_in_channel"):  # the held messages will say so
                log.warning("account %s: cannot invite into %s (%s)", account.id, channel, error)
            elif error != "already_in_channel":
                raise
            return
        log.warning("account %s: Slack would not invite %s", account.id, sorted(refused))
        for user_id in missing:
            if user_id not in refused:
                await _invite_one(services, channel, user_id)


async def _invite_one(services: Services, channel: str, user_id: str) -> None:
    try:
        await services.client.conversations_invite(channel=channel, users=user_id)
    except SlackApiError as exc:
        if exc.response.get("errors") is None and exc.response.get("error") != "already_in_channel":
            raise
        log.warning(
            "Slack would not invite %s to %s: %s", user_id, channel, exc.response.get("error")
        )
