"""One pass of due work. The scheduler in `baton run` and `baton tick` call the same code."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from datetime import datetime

from aiohttp import ClientConnectionError
from sqlalchemy.exc import DBAPIError

from bot.outbox.deliver import DeliveryReport, deliver_due
from bot.outbox.faults import load_faults
from bot.outbox.pause import paused_teams
from bot.outbox.planning import plan_due
from bot.outbox.reconcile import reconcile
from bot.outbox.relevance import moot_reason
from bot.outbox.routing import outbound_guard, outbound_route
from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from storage.db import is_outage

log = logging.getLogger(__name__)
DRAIN_SHARE = 0.8  # of the tick's interval, sending; the rest is slack before the next beat


async def run_tick(
    services: Services, now: datetime | None = None, seconds: float | None = None
) -> DeliveryReport:
    """Settle what Slack may or may not have, plan what is owed, settle what downtime made
    late, then send everything due, for up to `seconds` (by default most of a tick's
    interval); the features' stages run where they registered them. Each stage handles its
    subjects one by one; should a stage fail as a whole, the ones after it still run
    (delivery above all). A given `now` holds for the whole tick (a test's instant)."""
    instant = now or services.clock()
    await _stage("reading failures", load_faults(services))
    try:
        paused = await paused_teams(services, instant)
    except Exception:
        log.exception("tick: could not read the paused workspaces")
        paused = set()
    hooks = services.hooks
    for name, work in hooks.stages_of("before_reconcile"):
        await _stage(name, work(services, instant, paused))
    await _stage("reconciling", reconcile(services, instant, skip_teams=paused))
    for name, work in hooks.stages_of("before_planning"):
        await _stage(name, work(services, instant, paused))
    await _stage("planning", plan_due(services, instant, skip_teams=paused))
    for name, work in hooks.stages_of("after_planning"):
        await _stage(name, work(services, instant, paused))
    return await deliver_due(
        services.db,
        services.sender,
        now or services.clock(),  # a fresh stamp for the claims (see bot.outbox.reconcile)
        relevance=moot_reason(hooks),
        route=outbound_route(services),
        guard=outbound_guard(services),
        clock=None if now is not None else services.clock,
        seconds=seconds
        if seconds is not None
        else DRAIN_SHARE * services.settings.baton_tick_seconds,
    )


async def _stage(name: str, work: Awaitable[object]) -> None:
    """One stage's failure is logged and the tick goes on, unless Slack or the database
    cannot be reached at all: then no stage can do anything, and the caller says so."""
    try:
        await work
    except OverBudget as exc:  # Slack's rate limits: the rest of this stage waits its turn
        log.info("tick: %s waits %.0f s for Slack's rate limits", name, exc.wait)
    except (ClientConnectionError, TimeoutError):
        raise
    except DBAPIError as exc:
        if is_outage(exc):
            raise
        log.exception("tick: %s failed; the next tick tries again", name)
    except Exception:
        log.exception("tick: %s failed; the next tick tries again", name)
