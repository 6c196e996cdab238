"""One pass of due work. The scheduler in `baton run` and `baton tick` call the same code."""

from __future__ import annotations

from datetime import datetime

from bot.delivery import DeliveryReport, deliver_due
from bot.outbound import outbound_route
from bot.ownership.digest import plan_digests
from bot.planner import plan_due
from bot.reconcile import reconcile
from bot.relevance import moot_reason
from bot.renewal.catch_up import catch_up_overdue
from bot.services import Services


async def run_tick(services: Services, now: datetime | None = None) -> DeliveryReport:
    """Settle what Slack may or may not have, plan what is owed, settle what downtime made
    late, then send what is due."""
    instant = now or services.clock()
    await reconcile(services, instant)
    await plan_due(services, instant)
    await plan_digests(services, instant)
    await catch_up_overdue(services, instant)
    return await deliver_due(
        services.engine,
        services.sender,
        now or services.clock(),  # a fresh stamp for the claims (see bot.reconcile)
        relevance=moot_reason,
        route=outbound_route(services),
    )
