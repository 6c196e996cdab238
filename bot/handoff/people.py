"""Finding the account's people in Slack by the emails the CRM sent."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from storage.models import Account

ROLES = ("ae", "csm", "am", "manager")


async def find_user(client: AsyncWebClient, email: str) -> str | None:
    try:
        response = await client.users_lookupByEmail(email=email)
    except SlackApiError as exc:
        if exc.response.get("error") == "users_not_found":
            return None
        raise
    user = response["user"]
    return None if user.get("deleted") else user["id"]


async def resolve_missing(client: AsyncWebClient, account: Account) -> dict[str, str]:
    """Role → user id for every person with an email but no Slack user yet, if now found."""
    found: dict[str, str] = {}
    for role in ROLES:
        email = getattr(account, f"{role}_email")
        if email and not account.user_of(role):
            user_id = await find_user(client, email)
            if user_id:
                found[role] = user_id
    return found


def unresolved(account: Account) -> dict[str, str]:
    """Role → email of everyone Baton could not find in Slack."""
    return {
        role: email
        for role in ROLES
        if (email := getattr(account, f"{role}_email")) and not account.user_of(role)
    }
