"""Re-planning who owns the rest of a cycle when what decides it changes: an ARR change
that crosses the tiered model's threshold, or an AM joining or leaving."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.platform.kit import esc
from bot.platform.services import Services
from bot.renewal.blocks import ROLE_NAMES
from bot.renewal.planner import commercial_role, planned_cycle
from flows.renewal import crosses_threshold
from flows.retention import RetentionModel
from storage.accounts import set_plan_after
from storage.milestones import reassign
from storage.models import Account


async def replan_owners(services: Services, account: Account) -> None:
    await services.db.run(replan_owners_in, services, account, services.clock(), immediate=True)


def replan_owners_in(session: Session, services: Services, account: Account, now: datetime) -> None:
    """`replan_owners` in the caller's unit."""
    owners = {p.key: list(p.owners) for p in planned_cycle(services, account)}
    reassign(session, account.team_id, account.id, account.renewal_date, owners)
    set_plan_after(session, account.team_id, account.id, now)


async def after_arr_change(services: Services, account: Account, old_arr: Decimal) -> None:
    """A tiered (D) account whose ARR crossed the threshold switches between its A and B
    sides: the channel and both owners are told, and the rest of the cycle re-planned."""
    owed = await services.db.run(
        after_arr_change_in, services, account, old_arr, services.clock(), immediate=True
    )
    await deliver_now(services, owed)


def after_arr_change_in(
    session: Session, services: Services, account: Account, old_arr: Decimal, now: datetime
) -> list[int]:
    """`after_arr_change` in the caller's unit: the ids it owes, to deliver after it."""
    threshold = services.settings.baton_arr_threshold
    if account.retention_model != RetentionModel.TIERED or not crosses_threshold(
        old_arr, account.arr, threshold
    ):
        return []
    role = commercial_role(services, account)
    side = "B (the AE keeps the commercial side)" if role == "ae" else "A (clean handoff)"
    text = (
        f":twisted_rightwards_arrows: *{esc(account.name)}* moved from {esc(account.currency)} "
        f"{old_arr:,.0f} to {account.arr:,.0f} ARR, across the {threshold:,.0f} threshold of "
        f"the tiered model: it now runs as {side}. The renewal's commercial owner is now the "
        f"{ROLE_NAMES[role]}; the remaining milestones are re-planned."
    )
    key = f"threshold-{old_arr:f}-{account.arr:f}-{account.renewal_date}"
    recipients = [account.channel_id, account.ae_user_id, account.csm_user_id]
    owed = enqueue_all(
        session,
        [
            about(services, account, f"{key}-{to}", to, text)
            for to in dict.fromkeys(filter(None, recipients))
        ],
    )
    replan_owners_in(session, services, account, now)
    return owed
