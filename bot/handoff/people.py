"""Finding the account's people in Slack by the emails the CRM sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.people.directory import remember_user
from bot.platform.services import Services
from storage.models import Account
from storage.people import person_by_email

ROLES = ("ae", "csm", "am", "ops", "manager")
KNOWN_FOR = timedelta(hours=24)  # how long what Slack said of someone stands in for asking


async def find_user(client: AsyncWebClient, email: str) -> dict[str, Any] | None:
    """The Slack user with this email (what users.info says of them), if there is one."""
    try:
        response = await client.users_lookupByEmail(email=email)
    except SlackApiError as exc:
        if exc.response.get("error") == "users_not_found":
            return None
        raise
    user = response["user"]
    return None if user.get("deleted") else user


async def resolve_missing(services: Services, account: Account) -> dict[str, str]:
    """Role → user id for every person with an email but no Slack user yet, if now found.
    Someone Baton heard of lately is taken from what it wrote down (a busy day's deals
    share a few AEs and CSMs; users.lookupByEmail is Tier 3). Who they are is remembered
    too: their first click or form then needs no users.info before Baton can answer (see
    `bot.runtime.members_only`)."""
    found: dict[str, str] = {}
    fresh = services.clock() - KNOWN_FOR
    for role in ROLES:
        email = getattr(account, f"{role}_email")
        if email and not account.user_of(role):
            known = await services.db.run(person_by_email, account.team_id, email, fresh)
            if known is not None:
                found[role] = known.user_id
                continue
            user = await find_user(services.client, email)
            if user:
                await remember_user(services, account.team_id, user)
                found[role] = user["id"]
    return found


def unresolved(account: Account) -> dict[str, str]:
    """Role → email of everyone Baton could not find in Slack."""
    return {
        role: email
        for role in ROLES
        if (email := getattr(account, f"{role}_email")) and not account.user_of(role)
    }
