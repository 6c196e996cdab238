"""Set-up in Slack as queued work: a new account's channel, invites, topic, bookmark and
welcome (or a changed account's topic and people), done after the deal was taken in and
answered, oldest first, as fast as Slack's rate limits allow.

A deal is taken in without any Slack call; its account is marked `setup_due_at`. In
`baton run` a worker takes the queue as soon as this process puts something in it
(`setup_wanted`), or another process did (on PostgreSQL: its NOTIFY, `storage.wakeups`),
and looks on its own every IDLE_S besides (SQLite's only way; a missed notice's
fallback); every tick takes it too (for `baton tick` alone, and for what a crash left half
done).
When the budget says wait, the account waits that long (no failure is recorded) and so
does the queue: the accounts behind it would be told the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import datetime

from bot.handoff.provision import provision
from bot.outbox.faults import account_step, isolated, waiting
from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from storage.accounts import next_setup_due, setup_due

log = logging.getLogger(__name__)
BATCH = 20
IDLE_S = 5.0  # with nothing queued, look again this often (another process's deals, a crash's)


async def drain_setup(
    services: Services, now: datetime, skip_teams: Collection[str] = (), seconds: float = 60.0
) -> int:
    """Set up every account due by `now`, each on its own (one's failure is its own, retried
    with backoff); returns how many were taken. OverBudget stops the queue: it says when
    (the tick's stage, and the worker, wait that long)."""
    deadline = time.monotonic() + seconds
    taken = 0
    seen: set[int] = set()
    while time.monotonic() < deadline:
        fresh = [
            a for a in await services.db.run(setup_due, now, skip_teams, BATCH) if a.id not in seen
        ]
        if not fresh:
            break
        for account in fresh:
            seen.add(account.id)
            key = account_step(account.team_id, account.id, "provisioning")
            if not waiting(services, key, now):
                await isolated(services, key, provision(services, account), now)
                taken += 1
    return taken


async def setup_worker(services: Services) -> None:
    """`baton run`'s queue worker: runs until cancelled."""
    while True:
        pause = IDLE_S
        try:
            await drain_setup(services, services.clock())
            upcoming = await services.db.run(next_setup_due)
            now = services.clock()
            if upcoming is not None and upcoming > now:  # postponed until then
                pause = min(pause, (upcoming - now).total_seconds())
        except OverBudget as exc:
            pause = min(pause, exc.wait)
        except Exception:
            log.exception("set-up worker: a pass failed; trying again shortly")
        await services.setup_wanted.wait(max(pause, 0.05))
