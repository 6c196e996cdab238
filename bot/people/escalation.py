"""Telling a manager that something about an account needs them, at a sane hour for them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.outbox.owe import STALE_AFTER, about, owe
from bot.people.directory import zone_for
from bot.platform.batch import PlanBatch
from bot.platform.services import Services
from flows.calendar import next_business_time
from storage.kinds import MessageKind, Subject
from storage.models import Account
from storage.outbox import OwedMessage


async def zone(services: Services, account: Account, user_id: str) -> ZoneInfo:
    return await zone_for(services, account.team_id, user_id)


async def escalate(
    services: Services,
    account: Account,
    key: str,
    text: str,
    after: datetime,
    kind: MessageKind,
    subject: Subject | None = None,
) -> list[datetime]:
    """Owe each manager `text` on their first business morning at or after `after`."""
    messages = escalation_messages(
        services, account, key, text, after, kind, await manager_zones(services, account), subject
    )
    await owe(services, *messages)
    return [m.due_at for m in messages]


async def manager_zones(services: Services, account: Account) -> dict[str, ZoneInfo]:
    """Each of the account's managers' time zone: what `escalation_messages` needs, looked
    up before the unit that owes them (it may ask Slack)."""
    return {m: await zone(services, account, m) for m in services.managers_of(account)}


def batch_manager_zones(
    services: Services, batch: PlanBatch, account: Account
) -> dict[str, ZoneInfo]:
    """`manager_zones` from what a planning batch gathered."""
    return {m: batch.zone(account, m) for m in services.managers_of(account)}


def escalation_messages(
    services: Services,
    account: Account,
    key: str,
    text: str,
    after: datetime,
    kind: MessageKind,
    zones: dict[str, ZoneInfo],
    subject: Subject | None = None,
) -> list[OwedMessage]:
    """`escalate`'s messages, to owe in the caller's unit (`zones`: `manager_zones`)."""
    messages = []
    for manager, tz in zones.items():
        at = next_business_time(after, tz, holidays=services.settings.holidays)
        messages.append(
            about(
                services,
                account,
                f"{key}-{manager}",
                manager,
                text,
                due_at=at,
                kind=kind,
                subject=subject,
                tz=tz,
                expires_at=at + STALE_AFTER,
            )
        )
    return messages


def escalation_keys(services: Services, account: Account, key: str) -> list[str]:
    """The dedupe keys `escalate` used, to cancel them when the matter is settled."""
    return [f"{key}-{manager}:{account.id}" for manager in services.managers_of(account)]
