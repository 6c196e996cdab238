"""What the tick owes for check-ins: the weekly prompt, the day-30 switch, the rating request."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.blocks.checkins import checkin_prompt_blocks, primary_blocks, rating_request_blocks
from bot.directory import person, zone_of
from bot.handoff.planner import guarded
from bot.send import about, owe
from bot.services import Services
from flows.checkins import PROMPT_WEEKS, primary_time, prompt_time
from storage.accounts import recently_closed
from storage.models import Account
from storage.packets import get_packet

HORIZON = timedelta(weeks=PROMPT_WEEKS + 2)


async def plan_checkins(services: Services, now: datetime) -> None:
    for account in await asyncio.to_thread(recently_closed, services.engine, now - HORIZON):
        if account.csm_user_id:
            await guarded(_plan(services, account, now), account, "planning check-ins")


async def _plan(services: Services, account: Account, now: datetime) -> None:
    csm = account.csm_user_id or ""
    who = await person(services, services.client, account.team_id, csm)
    tz = zone_of(who, services.settings.timezone)
    # Weekly after the kickoff; after the close while no kickoff is logged (logging one
    # cancels the close-anchored prompt, and the next tick plans from the kickoff).
    anchor, tag = (
        (account.kickoff_held_at, "k") if account.kickoff_held_at else (account.closed_at, "c")
    )
    messages = []
    for week in range(1, PROMPT_WEEKS + 1):
        due = prompt_time(anchor, week, tz)
        if due >= now:
            messages.append(
                about(
                    services,
                    account,
                    f"checkin-prompt-{tag}{week}",
                    csm,
                    f"Week {week} check-in for {account.name}",
                    blocks=checkin_prompt_blocks(account, week),
                    due_at=due,
                    kind="checkin_prompt",
                )
            )
            break
    day30 = primary_time(account.closed_at, tz)
    packet = await asyncio.to_thread(get_packet, services.engine, account.team_id, account.id)
    champion = ((packet.answers.get("champion") if packet else None) or "").split(",")[0]
    messages += [
        about(
            services,
            account,
            "day30",
            account.channel_id or "",
            f"Day 30 for {account.name}: the CSM is now the primary owner.",
            blocks=primary_blocks(account, champion.split()[0] if champion else None),
            due_at=day30,
            kind="day30",
        ),
        about(
            services,
            account,
            "rating-request",
            csm,
            f"Rate the handoff packet for {account.name}.",
            blocks=rating_request_blocks(account),
            due_at=day30,
            kind="rating_request",
        ),
    ]
    await owe(services, *messages)
