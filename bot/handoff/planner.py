"""What the handoff owes over time: finishing set-up, finding people, the gate's reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from bot.handoff.blocks import escalation_text, kickoff_reminder_text, reminder_blocks
from bot.handoff.people import unresolved
from bot.handoff.provision import refresh_people
from bot.outbox.owe import STALE_AFTER, about
from bot.people.escalation import batch_manager_zones, escalation_messages
from bot.platform.batch import PlanBatch
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


def plan_gate(_session: Session, services: Services, batch: PlanBatch) -> None:
    batch.each("plan_gate", batch.accounts, lambda account: _gate(services, batch, account))


def _gate(services: Services, batch: PlanBatch, account: Account) -> None:
    """Owe the AE's next two reminders and the manager's escalation."""
    if account.status != AccountStatus.HANDOFF_PENDING or not account.ae_user_id:
        return
    holidays = services.settings.holidays
    tz = batch.zone(account, account.ae_user_id)
    first = next_reminder(account.closed_at, batch.now, tz, holidays)
    # Two ahead, so the account is looked at again when the next one is due, not before.
    following = next_reminder(account.closed_at, first + timedelta(seconds=1), tz, holidays)
    messages = []
    for due in (first, following):
        day = business_days_between(account.closed_at, due, tz, holidays)
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
    batch.owe(account, *messages)
    batch.owe(
        account,
        *escalation_messages(
            services,
            account,
            "gate-escalation",
            escalation_text(account),
            escalation_time(account.closed_at, tz, holidays),
            MessageKind.GATE_ESCALATION,
            batch_manager_zones(services, batch, account),
        ),
    )


def plan_kickoff(_session: Session, services: Services, batch: PlanBatch) -> None:
    batch.each("plan_kickoff", batch.accounts, lambda account: _kickoff(services, batch, account))


def _kickoff(services: Services, batch: PlanBatch, account: Account) -> None:
    if account.kickoff_held_at is not None:
        return
    if batch.now - account.closed_at > timedelta(days=KICKOFF_DEADLINE_DAY + 7):
        return
    for user_id in (account.ae_user_id, account.csm_user_id):
        if user_id:
            tz = batch.zone(account, user_id)
            due = kickoff_deadline(account.closed_at, tz, services.settings.holidays)
            batch.owe(
                account,
                about(
                    services,
                    account,
                    f"kickoff-reminder-{user_id}",
                    user_id,
                    kickoff_reminder_text(account),
                    due_at=due,
                    kind=MessageKind.KICKOFF_REMINDER,
                    tz=tz,
                    expires_at=due + STALE_AFTER,
                ),
            )
