"""What check-ins contribute to the tick: the weekly prompt, moot once the CSM checked in;
the day-30 notes, written when they are sent."""

from __future__ import annotations

from bot.checkins.day30 import compose_day30, compose_intro
from bot.checkins.planner import plan_checkins
from bot.checkins.relevance import prompt_moot
from bot.platform.hooks import Hooks
from storage.kinds import MessageKind


def register(hooks: Hooks) -> None:
    hooks.planners.append(plan_checkins)
    hooks.on_kinds((MessageKind.CHECKIN_PROMPT,), prompt_moot)
    hooks.compose[MessageKind.CUSTOMER_INTRO] = compose_intro
    hooks.compose[MessageKind.DAY30] = compose_day30
