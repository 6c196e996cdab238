"""What the handoff owes over time: finishing set-up, finding people, the gate's reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.handoff.blocks import escalation_text, kickoff_reminder_text, reminder_blocks
from bot.handoff.people import unresolved
from bot.handoff.provision import refresh_people
from bot.outbox.owe import STALE_AFTER, about, owe
from bot.people.escalation import escalate, zone
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.gate import business_days_between, escalation_time, kickoff_deadline, next_reminder
from flows.handoff import KICKOFF_DEADLINE_DAY
from storage.kinds import MessageKind
from storage.models import Account, AccountStatus

PEOPLE_RECHECK = timedelta(hours=1)
# A morning reminder missed by downtime is not sent at night: the next morning's is.
REMINDER_LIFETIME = timedelta(hours=8)


async def look_for_people(
    services: Services, account: Account, now: datetime
) -> tuple[Account, datetime | None]:
    """Look again, hourly, for people not found in Slack: (the account, when to look next)."""
    if not unresolved(account):
        return account, None
    checked = account.people_checked_at
    if checked is None or now - checked >= PEOPLE_RECHECK:
        account = await refresh_people(services, account)
        if not unresolved(account):
            return account, None
        checked = now
    return account, checked + PEOPLE_RECHECK


async def plan_gate(services: Services, account: Account, now: datetime) -> list[datetime]:
    """Owe the AE's next two reminders and the manager's escalation; returns their times."""
    if account.status != AccountStatus.HANDOFF_PENDING or not account.ae_user_id:
        return []
    tz = await zone(services, account, account.ae_user_id)
    first = next_reminder(account.closed_at, now, tz, services.settings.holidays)
    # Two ahead, so the account is looked at again when the next one is due, not before.
    following = next_reminder(
        account.closed_at, first + timedelta(seconds=1), tz, services.settings.holidays
    )
    messages = []
    for due in (first, following):
        day = business_days_between(account.closed_at, due, tz, services.settings.holidays)
        messages.append(
            about(
                services,
                account,
                f"gate-reminder-{due.astimezone(tz).date()}",
                account.ae_user_id,
                f"Reminder: the handoff packet for {esc(account.name)} is still missing.",
                blocks=reminder_blocks(account, day),
                due_at=due,
                kind=MessageKind.GATE_REMINDER,
                expires_at=due + REMINDER_LIFETIME,
                tz=tz,
            )
        )
    await owe(services, *messages)
    escalation = await escalate(
        services,
        account,
        "gate-escalation",
        escalation_text(account),
        escalation_time(account.closed_at, tz, services.settings.holidays),
        MessageKind.GATE_ESCALATION,
    )
    return [m.due_at for m in messages] + escalation


async def plan_kickoff(services: Services, account: Account, now: datetime) -> list[datetime]:
    if account.kickoff_held_at is not None:
        return []
    if now - account.closed_at > timedelta(days=KICKOFF_DEADLINE_DAY + 7):
        return []
    messages = []
    for user_id in (account.ae_user_id, account.csm_user_id):
        if user_id:
            tz = await zone(services, account, user_id)
            messages.append(
                about(
                    services,
                    account,
                    f"kickoff-reminder-{user_id}",
                    user_id,
                    kickoff_reminder_text(account),
                    due_at=kickoff_deadline(account.closed_at, tz, services.settings.holidays),
                    kind=MessageKind.KICKOFF_REMINDER,
                    tz=tz,
                    expires_at=kickoff_deadline(account.closed_at, tz, services.settings.holidays)
                    + STALE_AFTER,
                )
            )
    await owe(services, *messages)
    return [m.due_at for m in messages]
