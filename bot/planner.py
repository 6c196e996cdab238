"""Planning what Baton owes, account by account, only when an account's time has come.

Each account carries `plan_after`: the next instant anything about it must be planned (the
earliest message it is owed that is still to come). A tick plans only those accounts, so its
cost follows what is due, not the size of the book. Anything that changes an account's plan
(a kickoff, a person found, a CRM change) sets `plan_after` to now. Accounts with people
not yet found in Slack come back hourly to look again.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.checkins.planner import plan_checkins
from bot.handoff.planner import (
    finish_setup,
    guarded,
    look_for_people,
    plan_gate,
    plan_kickoff,
)
from bot.renewal.planner import plan_renewal
from bot.services import Services
from storage.accounts import due_for_planning, set_plan_after
from storage.models import Account

PLANNERS = (plan_gate, plan_kickoff, plan_checkins, plan_renewal)


async def plan_due(services: Services, now: datetime) -> None:
    await finish_setup(services)
    for account in await asyncio.to_thread(due_for_planning, services.engine, now):
        await plan_account(services, account, now)


async def plan_account(services: Services, account: Account, now: datetime) -> None:
    # People first: whoever turns up is planned for in this same pass.
    looked = await guarded(look_for_people(services, account, now), account, "finding people", None)
    failed = looked is None
    times: list[datetime] = []
    if looked is not None:
        account, recheck = looked
        times += [recheck] if recheck else []
    for planner in PLANNERS:
        planned = await guarded(planner(services, account, now), account, planner.__name__, None)
        failed |= planned is None
        times += planned or []
    future = [t for t in times if t > now]
    # Slack trouble: look again next tick. Otherwise: when the next owed message is due.
    next_at = now if failed else (min(future) if future else None)
    await asyncio.to_thread(set_plan_after, services.engine, account.team_id, account.id, next_at)
