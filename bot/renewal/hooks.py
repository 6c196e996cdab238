"""What the renewal clock contributes: its milestones planned every tick, overdue nudges
settled after downtime, moot nudges dropped, and re-planning when an account changes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from bot.platform.hooks import Hooks
from bot.platform.services import Services
from bot.renewal.catch_up import catch_up_overdue
from bot.renewal.planner import plan_renewal
from bot.renewal.relevance import AT_RISK_KINDS, MILESTONE_KINDS, at_risk_moot, milestone_moot
from bot.renewal.replan import after_arr_change, replan_owners
from storage.models import Account

# A change of who holds an account re-plans the owners of the rest of its cycle.
_HOLDERS = frozenset({"am_email", "ae_user_id", "csm_user_id", "am_user_id", "manager_user_id"})


async def _catch_up(services: Services, now: datetime, _paused: Collection[str]) -> None:
    await catch_up_overdue(services, now)


async def _account_changed(
    services: Services, account: Account, changed: dict[str, tuple[object, object]]
) -> None:
    if "arr" in changed:
        await after_arr_change(services, account, Decimal(str(changed["arr"][0] or 0)))
    if changed.keys() & _HOLDERS:
        await replan_owners(services, account)


def register(hooks: Hooks) -> None:
    hooks.planners.append(plan_renewal)
    hooks.on_kinds(MILESTONE_KINDS, milestone_moot)
    hooks.on_kinds(AT_RISK_KINDS, at_risk_moot)
    hooks.stage("after_planning", "catching up", _catch_up)
    hooks.account_changed.append(_account_changed)
