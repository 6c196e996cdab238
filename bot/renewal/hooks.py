"""What the renewal clock contributes: its milestones planned every tick, overdue nudges
settled after downtime, moot nudges dropped, and re-planning when an account changes."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from bot.platform.hooks import Hooks
from bot.platform.outlook import Outlook
from bot.platform.services import Services
from bot.renewal.catch_up import LATE_AFTER, catch_up_overdue
from bot.renewal.planner import plan_renewal
from bot.renewal.relevance import AT_RISK_KINDS, MILESTONE_KINDS, at_risk_moot, milestone_moot
from bot.renewal.replan import after_arr_change_in, replan_owners_in
from storage.models import Account

# A change of who holds an account (or of its retention model, which says who owns which
# step) re-plans the owners of the rest of its cycle (a new Ops person: their nudges).
_HOLDERS = frozenset(
    {
        "am_email",
        "ae_user_id",
        "csm_user_id",
        "am_user_id",
        "ops_user_id",
        "manager_user_id",
        "retention_model",
    }
)


async def _catch_up(services: Services, now: datetime, _paused: Collection[str]) -> None:
    await catch_up_overdue(services, now)


def _overdue(_services: Services, outlook: Outlook) -> bool:
    """Something owed was late by the tick's start, or has been owed late since (or a stage
    that owes messages ran: it may have)."""
    late = outlook.now - LATE_AFTER
    return outlook.owing or any(
        at is not None and at < late for at in (outlook.earliest.pending, outlook.planned)
    )


def _account_changed(
    session: Session,
    services: Services,
    account: Account,
    changed: dict[str, tuple[object, object]],
    now: datetime,
) -> list[int]:
    owed = []
    if "arr" in changed:
        old_arr = Decimal(str(changed["arr"][0] or 0))
        owed = after_arr_change_in(session, services, account, old_arr, now)
    if changed.keys() & _HOLDERS:
        replan_owners_in(session, services, account, now)
    return owed


def register(hooks: Hooks) -> None:
    hooks.planners.append(plan_renewal)
    hooks.on_kinds(MILESTONE_KINDS, milestone_moot)
    hooks.on_kinds(AT_RISK_KINDS, at_risk_moot)
    hooks.stage("after_planning", "catching up", _catch_up, when=_overdue, owes=True)
    hooks.account_changed.append(_account_changed)
