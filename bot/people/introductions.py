"""Baton introduces itself to each person once, at 09:00 their time on a working day."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.outbox.owe import owe
from bot.people.directory import first_name, person, zone_of
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.calendar import next_business_time
from flows.introductions import introduction
from flows.roles import Role
from storage.kinds import SubjectType
from storage.outbox import OwedMessage


async def introduce(
    services: Services, client: AsyncWebClient, team_id: str, members: list[tuple[str, Role]]
) -> int:
    """Owe each member an introduction DM; returns how many were newly owed."""
    messages = []
    for user_id, role in members:
        who = await person(services, client, team_id, user_id)
        due = next_business_time(
            services.clock(),
            zone_of(who, services.settings.timezone),
            holidays=services.settings.holidays,
        )
        messages.append(
            OwedMessage(
                team_id=team_id,
                dedupe_key=f"intro:{user_id}",
                channel=user_id,
                text=introduction(esc(first_name(who)), role),
                due_at=due,
                subject_type=SubjectType.PERSON,
                subject_id=user_id,
            )
        )
    return await owe(services, *messages)
