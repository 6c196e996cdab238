"""What check-ins contribute to the tick: the weekly prompt, moot once the CSM checked in."""

from __future__ import annotations

from bot.checkins.planner import plan_checkins
from bot.checkins.relevance import prompt_moot
from bot.platform.hooks import Hooks


def register(hooks: Hooks) -> None:
    hooks.planners.append(plan_checkins)
    hooks.on_kinds(("checkin_prompt",), prompt_moot)
