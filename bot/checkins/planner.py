"""What check-ins owe over time: the weekly prompt, the day-30 switch, the rating request."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.checkins.blocks import checkin_prompt_blocks, rating_request_blocks
from bot.outbox.owe import STALE_AFTER, about
from bot.platform.batch import PlanBatch
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.checkins import (
    PROMPT_WEEKS,
    packet_collected,
    passed_before_known,
    primary_time,
    prompt_time,
)
from storage.kinds import MessageKind
from storage.models import Account
from storage.outbox import OwedMessage

HORIZON = timedelta(weeks=PROMPT_WEEKS + 2)


def plan_checkins(session: Session, services: Services, batch: PlanBatch) -> None:
    """Owe each account's next weekly prompts and its day-30 messages."""
    now = batch.now
    wanted = [a for a in batch.accounts if a.csm_user_id and now - a.closed_at <= HORIZON]
    batch.each("plan_checkins", wanted, lambda account: _plan(services, batch, account))


def _plan(services: Services, batch: PlanBatch, account: Account) -> None:
    csm, now = account.csm_user_id or "", batch.now
    tz = batch.zone(account, csm)
    # Weekly after the kickoff; after the close while no kickoff is logged (logging one
    # cancels the close-anchored prompts, and the account is planned again from it).
    anchor, tag = (
        (account.kickoff_held_at, "k") if account.kickoff_held_at else (account.closed_at, "c")
    )
    upcoming = [
        (week, prompt_time(anchor, week, tz, services.settings.holidays))
        for week in range(1, PROMPT_WEEKS + 1)
    ]
    upcoming = [(week, due) for week, due in upcoming if due >= now][:2]
    messages = [
        about(
            services,
            account,
            f"checkin-prompt-{tag}{week}",
            csm,
            f"Week {week} check-in for {esc(account.name)}",
            blocks=checkin_prompt_blocks(account, week),
            due_at=due,
            kind=MessageKind.CHECKIN_PROMPT,
            expires_at=due + timedelta(days=6),
            tz=tz,
        )
        for week, due in upcoming
    ]
    day30 = primary_time(account.closed_at, tz, services.settings.holidays)
    known_on = account.created_at.astimezone(tz).date()
    if not passed_before_known(day30.astimezone(tz).date(), known_on):  # else: not sent late
        messages += _day30(services, account, csm, day30, tz)
    batch.owe(account, *messages)


def _day30(
    services: Services, account: Account, csm: str, day30: datetime, tz: ZoneInfo
) -> list[OwedMessage]:
    """The day-30 switch: the customer told (in a shared channel), the account channel told,
    and the CSM asked to rate the packet, if Baton collected it. The first two are written
    when they are sent (`bot.checkins.day30`), from the model and the packet as they are then."""
    messages = []
    if account.ext_channel_id:  # said to the customer themselves, in the shared channel
        messages.append(
            about(
                services,
                account,
                "customer-intro",
                account.ext_channel_id,
                "Your contacts from here on",  # written when it is sent
                due_at=day30,
                kind=MessageKind.CUSTOMER_INTRO,
                expires_at=day30 + STALE_AFTER,
            )
        )
    messages.append(
        about(
            services,
            account,
            "day30",
            account.channel_id or "",
            f"Day 30 for {esc(account.name)}: the CSM is now the primary owner.",
            due_at=day30,
            kind=MessageKind.DAY30,
            expires_at=day30 + STALE_AFTER,
        )
    )
    if packet_collected(account.packet_completed_at, account.created_at):
        messages.append(
            about(
                services,
                account,
                "rating-request",
                csm,
                f"Rate the handoff packet for {esc(account.name)}.",
                blocks=rating_request_blocks(account),
                due_at=day30,
                kind=MessageKind.RATING_REQUEST,
                expires_at=day30 + STALE_AFTER,
                tz=tz,
            )
        )
    return messages
