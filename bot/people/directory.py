"""Who a Slack user is and where they are: users.info, cached in the people table."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.web.async_client import AsyncWebClient

from bot.platform.services import Services
from storage.models import Person
from storage.people import get_person, upsert_person

MAX_AGE = timedelta(days=1)


async def remember_user(services: Services, team_id: str, user: dict[str, Any]) -> None:
    """Store what a users.info or user_change payload says about a user (what does not
    fit the people table's columns is left out)."""
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    names = (user.get("real_name"), profile.get("real_name"), user.get("name"))
    await services.db.run(
        upsert_person,
        team_id,
        user["id"],
        email=_fitting(profile.get("email"), 320),
        real_name=next((n for n in names if isinstance(n, str) and n), "")[:255],
        tz=_fitting(user.get("tz"), 64),
        now=services.clock(),
        deactivated=bool(user.get("deleted")),
        outsider=is_outsider(user, team_id),
    )


def is_outsider(user: dict[str, Any], team_id: str) -> bool:
    """A guest, or someone from another organisation (Slack Connect)."""
    other_team = bool(user.get("team_id")) and user.get("team_id") != team_id
    return bool(
        other_team
        or user.get("is_restricted")
        or user.get("is_ultra_restricted")
        or user.get("is_stranger")
    )


def _fitting(value: Any, limit: int) -> str | None:
    return value if isinstance(value, str) and len(value) <= limit else None


async def person(services: Services, client: AsyncWebClient, team_id: str, user_id: str) -> Person:
    known = await services.db.run(get_person, team_id, user_id)
    if known is not None and services.clock() - known.refreshed_at < MAX_AGE:
        return known
    response = await client.users_info(user=user_id)
    await remember_user(services, team_id, response["user"])
    fresh = await services.db.run(get_person, team_id, user_id)
    assert fresh is not None
    return fresh


async def zone_for(services: Services, team_id: str, user_id: str) -> ZoneInfo:
    """The person's own time zone (asked of Slack when not known), or the business one."""
    who = await person(services, services.client, team_id, user_id)
    return zone_of(who, services.settings.timezone)


def zone_of(person: Person | None, fallback: ZoneInfo) -> ZoneInfo:
    """The person's own time zone, or the business fallback when Slack has none."""
    if person is None or not person.tz:
        return fallback
    try:
        return ZoneInfo(person.tz)
    except (ZoneInfoNotFoundError, ValueError):
        return fallback


def first_name(person: Person | None) -> str:
    return person.real_name.split()[0] if person and person.real_name.strip() else ""
