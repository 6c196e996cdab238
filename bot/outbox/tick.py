"""One pass of due work. The scheduler in `baton run` and `baton tick` call the same code."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Collection
from datetime import datetime
from typing import TypeVar

from aiohttp import ClientConnectionError
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from bot.outbox.deliver import DeliveryReport, deliver_due
from bot.outbox.faults import remember_faults
from bot.outbox.pause import paused_teams
from bot.outbox.planning import plan_due
from bot.outbox.reconcile import SEND_LEASE, reconcile
from bot.outbox.relevance import moot_reason
from bot.outbox.routing import outbound_guard, outbound_route
from bot.platform.hooks import Phase
from bot.platform.outlook import Outlook
from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from storage.db import is_outage
from storage.faults import FaultKey, fault_keys
from storage.models import Workspace
from storage.outbox import any_uncertain
from storage.upcoming import Earliest, earliest_of_each
from storage.workspaces import paused_workspaces

log = logging.getLogger(__name__)
T = TypeVar("T")
U = TypeVar("U")
DRAIN_SHARE = 0.8  # of the tick's interval, sending; the rest is slack before the next beat


async def run_tick(
    services: Services, now: datetime | None = None, seconds: float | None = None
) -> DeliveryReport:
    """Settle what Slack may or may not have, plan what is owed, settle what downtime made
    late, then send everything due, for up to `seconds` (by default most of a tick's
    interval); the features' stages run where they registered them, those with nothing to
    do skipped (`bot.platform.outlook`). Each stage handles its subjects one by one; should
    a stage fail as a whole, the ones after it still run (delivery above all). A given
    `now` holds for the whole tick (a test's instant)."""
    instant = now or services.clock()
    outlook, workspaces = await _look(services, instant)
    try:
        paused = await paused_teams(services, instant, workspaces)
    except Exception:
        log.exception("tick: could not read the paused workspaces")
        paused = set()
    hooks = services.hooks
    await _stages(services, outlook, "before_reconcile", paused)
    if outlook.uncertain or outlook.retrying:
        outlook.owing = True  # a row found not sent is owed again
        await _stage("reconciling", reconcile(services, instant, skip_teams=paused))
    set_up = await _stages(services, outlook, "before_planning", paused)
    if set_up or outlook.retrying or outlook.due(outlook.earliest.planning):
        # When what planning owed is due (failed: as if it had owed one due at once).
        planning = plan_due(services, instant, skip_teams=paused)
        outlook.planned = await _stage("planning", planning, otherwise=instant)
    await _stages(services, outlook, "after_planning", paused)
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


async def _look(services: Services, now: datetime) -> tuple[Outlook, list[Workspace] | None]:
    """The tick's first unit: the failing steps, the paused workspaces and what is due.
    Should it fail (but for an outage), every stage runs and reads for itself."""
    looked = await _stage("reading what is due", services.db.run(_outlook_in, now))
    if looked is None:
        return Outlook.unknown(now), None
    keys, workspaces, earliest, uncertain = looked
    remember_faults(services, keys)
    return Outlook(now, earliest, uncertain), workspaces


def _outlook_in(
    session: Session, now: datetime
) -> tuple[dict[FaultKey, datetime], list[Workspace], Earliest, bool]:
    return (
        fault_keys(session),
        paused_workspaces(session),
        earliest_of_each(session),
        any_uncertain(session, now, now - SEND_LEASE),
    )


async def _stages(
    services: Services, outlook: Outlook, phase: Phase, paused: Collection[str]
) -> bool:
    """The phase's stages that have work; whether one that owes messages ran."""
    owed = False
    for staged in services.hooks.stages_of(phase):
        if staged.when is None or outlook.retrying or staged.when(services, outlook):
            if staged.owes:
                outlook.owing = owed = True
            await _stage(staged.name, staged.work(services, outlook.now, paused))
    return owed


async def _stage(name: str, work: Awaitable[T], otherwise: U = None) -> T | U:
    """What the stage returned, or `otherwise` if it failed: its failure is logged and the
    tick goes on, unless Slack or the database cannot be reached at all: then no stage can
    do anything, and the caller says so."""
    try:
        return await work
    except OverBudget as exc:  # Slack's rate limits: the rest of this stage waits its turn
        log.info("tick: %s waits %.0f s for Slack's rate limits", name, exc.wait)
    except (ClientConnectionError, TimeoutError):
        raise
    except Exception as exc:
        if isinstance(exc, DBAPIError) and is_outage(exc):
            raise
        log.exception("tick: %s failed; the next tick tries again", name)
    return otherwise
