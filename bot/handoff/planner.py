"""What the tick owes for handoffs: finishing set-up, finding people, the gate's reminders."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.blocks.handoff import escalation_text, kickoff_reminder_text, reminder_blocks
from bot.directory import person, zone_of
from bot.handoff.provision import provision, refresh_people
from bot.send import about, owe
from bot.services import Services
from flows.calendar import next_business_time
from flows.gate import business_days_between, escalation_time, kickoff_deadline, next_reminder
from storage.accounts import gate_pending, kickoff_open, missing_people, unprovisioned
from storage.models import Account

log = logging.getLogger(__name__)
PEOPLE_RECHECK = timedelta(hours=1)
KICKOFF_WINDOW = timedelta(days=30)


async def plan_handoffs(services: Services, now: datetime) -> None:
    engine = services.engine
    for account in await asyncio.to_thread(unprovisioned, engine):
        await guarded(provision(services, account), account, "provisioning")
    for account in await asyncio.to_thread(missing_people, engine, now - PEOPLE_RECHECK):
        await guarded(refresh_people(services, account), account, "finding people")
    for account in await asyncio.to_thread(gate_pending, engine):
        await guarded(_plan_gate(services, account, now), account, "planning the gate")
    for account in await asyncio.to_thread(kickoff_open, engine, now - KICKOFF_WINDOW):
        await guarded(_plan_kickoff(services, account), account, "planning the kickoff")


async def guarded(work, account: Account, what: str) -> None:  # noqa: ANN001
    try:
        await work
    except SlackApiError as exc:
        # The next tick tries again; one account's trouble never stops the others.
        log.warning("%s for account %s: Slack said %s", what, account.id, exc.response.get("error"))


async def _zone(services: Services, account: Account, user_id: str):  # noqa: ANN202
    who = await person(services, services.client, account.team_id, user_id)
    return zone_of(who, services.settings.timezone)


async def _plan_gate(services: Services, account: Account, now: datetime) -> None:
    if not account.ae_user_id or account.provisioned_at is None:
        return
    tz = await _zone(services, account, account.ae_user_id)
    due = next_reminder(account.closed_at, now, tz)
    day = business_days_between(account.closed_at, due, tz)
    messages = [
        about(
            services,
            account,
            f"gate-reminder-{due.astimezone(tz).date()}",
            account.ae_user_id,
            f"Reminder: the handoff packet for {account.name} is still missing.",
            blocks=reminder_blocks(account, day),
            due_at=due,
            kind="gate_reminder",
        )
    ]
    escalate_at = escalation_time(account.closed_at, tz)
    managers = (
        [account.manager_user_id] if account.manager_user_id else sorted(services.settings.managers)
    )
    for manager in managers:
        at = next_business_time(escalate_at, await _zone(services, account, manager))
        messages.append(
            about(
                services,
                account,
                f"gate-escalation-{manager}",
                manager,
                escalation_text(account),
                due_at=at,
                kind="gate_escalation",
            )
        )
    await owe(services, *messages)


async def _plan_kickoff(services: Services, account: Account) -> None:
    messages = []
    for user_id in (account.ae_user_id, account.csm_user_id):
        if user_id:
            tz = await _zone(services, account, user_id)
            messages.append(
                about(
                    services,
                    account,
                    f"kickoff-reminder-{user_id}",
                    user_id,
                    kickoff_reminder_text(account),
                    due_at=kickoff_deadline(account.closed_at, tz),
                    kind="kickoff_reminder",
                )
            )
    await owe(services, *messages)
