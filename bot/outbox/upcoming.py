"""When a tick next has anything to do: the earliest of what the database says is coming
(`storage.upcoming`), a paused workspace's next look at its token, and what the features
remember between ticks (`Hooks.wakes`). A tick before that moment would find nothing, so
a simulated clock (`baton demo`) can go straight to it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.outbox.pause import CHECK_EVERY
from bot.outbox.reconcile import SEND_LEASE
from bot.platform.services import Services
from storage.models import Workspace
from storage.upcoming import next_work_at
from storage.workspaces import paused_workspaces


async def next_work(services: Services) -> datetime | None:
    coming, paused = await services.db.run(_read)
    times = [coming]
    for workspace in paused:
        checked = workspace.pause_checked_at
        times.append(services.clock() if checked is None else checked + CHECK_EVERY)
    times += [wake(services) for wake in services.hooks.wakes]
    return min((t for t in times if t is not None), default=None)


def _read(session: Session) -> tuple[datetime | None, list[Workspace]]:
    return next_work_at(session, SEND_LEASE), paused_workspaces(session)
