"""Re-planning who owns the rest of a cycle when what decides it changes: an ARR change
that crosses the tiered model's threshold, or an AM joining or leaving."""

from __future__ import annotations

from decimal import Decimal

from bot.outbox.owe import about, send_now
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
    owners = {p.milestone.key: list(p.owners) for p in planned_cycle(services, account)}
    await services.db.run(
        reassign, account.team_id, account.id, account.renewal_date, owners, immediate=True
    )
    await services.db.run(set_plan_after, account.team_id, account.id, services.clock())


async def after_arr_change(services: Services, account: Account, old_arr: Decimal) -> None:
    """A tiered (D) account whose ARR crossed the threshold switches between its A and B
    sides: the channel and both owners are told, and the rest of the cycle re-planned."""
    threshold = services.settings.baton_arr_threshold
    if account.retention_model != RetentionModel.TIERED or not crosses_threshold(
        old_arr, account.arr, threshold
    ):
        return
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
    await send_now(
        services,
        *(
            about(services, account, f"{key}-{to}", to, text)
            for to in dict.fromkeys(filter(None, recipients))
        ),
    )
    await replan_owners(services, account)
