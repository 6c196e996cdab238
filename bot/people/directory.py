"""Who a Slack user is and where they are: users.info, cached in the people table."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.accounts.ops import ops_user
from bot.platform.batch import PlanBatch
from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from storage.models import Account, Person
from storage.people import get_person, people_named, person_row, upsert_people

MAX_AGE = timedelta(days=1)


async def remember_user(services: Services, team_id: str, user: dict[str, Any]) -> None:
    """Store what a users.info or user_change payload says about a user (what does not
    fit the people table's columns is left out)."""
    await services.db.run(upsert_people, [_row(team_id, user, services.clock())])


def _row(team_id: str, user: dict[str, Any], now: datetime) -> dict[str, Any]:
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    names = (user.get("real_name"), profile.get("real_name"), user.get("name"))
    return person_row(
        team_id,
        user["id"],
        email=_fitting(profile.get("email"), 320),
        real_name=next((n for n in names if isinstance(n, str) and n), "")[:255],
        tz=_fitting(user.get("tz"), 64),
        now=now,
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


def _fresh(services: Services, known: Person | None) -> bool:
    return known is not None and services.clock() - known.refreshed_at < MAX_AGE


async def person(services: Services, client: AsyncWebClient, team_id: str, user_id: str) -> Person:
    known = await services.db.run(get_person, team_id, user_id)
    if known is not None and _fresh(services, known):
        return known
    response = await client.users_info(user=user_id)
    stored = await services.db.run(
        upsert_people, [_row(team_id, response["user"], services.clock())]
    )
    if (team_id, user_id) not in stored:
        raise LookupError(f"Slack answered users.info for {user_id} about someone else")
    return stored[team_id, user_id]


async def zone_for(services: Services, team_id: str, user_id: str) -> ZoneInfo:
    """The person's own time zone (asked of Slack when not known), or the business one."""
    who = await person(services, services.client, team_id, user_id)
    return zone_of(who, services.settings.timezone)


async def gather_zones(services: Services, batch: PlanBatch) -> None:
    """The time zone of everyone the batch's accounts name, read at once; only someone not
    known (or not heard of for a day) is asked of Slack, and what Slack says of them all is
    stored in one unit. A failed look-up is noted, and fails only the steps that need that
    zone; Slack's rate limits stop the planning (what was heard by then is kept)."""
    named = {(a.team_id, user_id) for a in batch.accounts for user_id in _named(services, a)}
    known = await services.db.run(people_named, named)
    fallback = services.settings.timezone
    stale = []
    for key in sorted(named):
        if _fresh(services, known.get(key)):
            batch.zones[key] = zone_of(known[key], fallback)
        else:
            stale.append(key)
    heard: dict[tuple[str, str], dict[str, Any]] = {}
    try:
        for team_id, user_id in stale:
            try:
                response = await services.client.users_info(user=user_id)
                heard[team_id, user_id] = _row(team_id, response["user"], services.clock())
            except OverBudget:
                raise
            except SlackApiError as exc:
                batch.unknown[team_id, user_id] = f"Slack said {exc.response.get('error')}"
            except Exception as exc:
                batch.unknown[team_id, user_id] = f"{type(exc).__name__}: {exc}"
    finally:
        await _store_heard(services, batch, heard)


async def _store_heard(
    services: Services, batch: PlanBatch, heard: dict[tuple[str, str], dict[str, Any]]
) -> None:
    if not heard:
        return
    try:
        stored = await services.db.run(upsert_people, list(heard.values()))
    except Exception as exc:
        batch.unknown.update(dict.fromkeys(heard, f"{type(exc).__name__}: {exc}"))
        return
    for key in heard:
        if key in stored:
            batch.zones[key] = zone_of(stored[key], services.settings.timezone)
        else:
            batch.unknown[key] = "Slack answered users.info about someone else"


def _named(services: Services, account: Account) -> set[str]:
    """Whoever a message about the account may be owed to: its people and its managers."""
    people = (
        account.ae_user_id,
        account.csm_user_id,
        account.am_user_id,
        ops_user(services, account),
    )
    return {u for u in people if u} | set(services.managers_of(account))


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
