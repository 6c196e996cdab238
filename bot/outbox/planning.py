"""Planning what Baton owes, in batches of accounts, only when an account's time has come.

Each account carries `plan_after`: the next instant anything about it must be planned (the
earliest message it is owed that is still to come). A tick plans only those accounts, so its
cost follows what is due, not the size of the book. Anything that changes an account's plan
(a kickoff, a person found, a CRM change) sets `plan_after` to now. Accounts with people
not yet found in Slack come back hourly to look again.

Accounts are planned `BATCH` at a time. First, outside any transaction, each account's
`Hooks.prepare` steps (looking for people) and the batch's `Hooks.gather` steps (time
zones), which may ask Slack. Then one unit of work: the accounts still due as they were
read are locked (another replica skips them), every feature's planner reads what the whole
batch needs at once and owes through it, and what they owe, the failures and each
account's next `plan_after` are written together. A crash before the commit leaves the
accounts due; every message and milestone is owed once by its key, so planning again owes
nothing twice. A step that fails for one account (a bad row) is recorded for that account
and retried with backoff (`bot.outbox.faults`), and the others go on; should the unit fail
as a whole, each account is planned again on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from sqlmodel import Session

from bot.outbox.faults import MEMO, Failed, account_step, isolated
from bot.platform.batch import AccountKey, PlanBatch
from bot.platform.services import Services
from storage.accounts import (
    due_for_planning,
    due_for_planning_ids,
    get_account,
    set_plan_after,
    set_plans_after,
    still_due,
)
from storage.db import is_outage
from storage.faults import FaultKey, clear_faults, record_fault
from storage.models import Account
from storage.outbox import enqueue_many

log = logging.getLogger(__name__)
BATCH = 100  # accounts per unit of work: few statements each, locks held briefly
PLANNING = "planning"  # the step of an account planned alone whose unit failed


async def plan_due(
    services: Services, now: datetime, skip_teams: Collection[str] = ()
) -> datetime | None:
    """Plan every account whose time has come (not those of paused workspaces); returns
    when the earliest message it owed is due (None: it owed none)."""
    accounts = await _due_accounts(services, now, skip_teams)
    owed = [
        await plan_accounts(services, accounts[start : start + BATCH], now)
        for start in range(0, len(accounts), BATCH)
    ]
    return _soonest(owed)


async def _due_accounts(
    services: Services, now: datetime, skip_teams: Collection[str]
) -> list[Account]:
    """The accounts due for planning; if one of them cannot even be read, the others
    still are (one at a time, the bad one recorded)."""
    db = services.db
    try:
        return await db.run(due_for_planning, now, skip_teams=skip_teams)
    except Exception:
        ids = await db.run(due_for_planning_ids, now, skip_teams=skip_teams)
    accounts = []
    for team_id, account_id in ids:
        key = account_step(team_id, account_id, "reading the account")
        found = await isolated(
            services, key, services.db.run(get_account, team_id, account_id), now
        )
        if isinstance(found, Failed):
            await services.db.run(set_plan_after, team_id, account_id, found.retry_at)
        elif found is not None:
            accounts.append(found)
    return accounts


async def plan_accounts(
    services: Services, accounts: list[Account], now: datetime
) -> datetime | None:
    """Plan these accounts together (see the module's docstring); when the earliest message
    it owed is due."""
    batch = PlanBatch(now)
    prepared = [await _prepared(services, account, now) for account in accounts]
    for account, times, retries in prepared:
        batch.add(account, times, retries)
    for gather in services.hooks.gather:
        await gather(services, batch)
    if len(prepared) == 1:
        await _plan_alone(services, batch, prepared[0][0])
        return _earliest_owed(batch)
    try:
        await _plan(services, batch)
    except Exception as exc:
        if is_outage(exc):  # no account can be planned: the tick says so
            raise
        log.exception("planning %d accounts together failed; each is planned alone",
                      len(prepared))  # fmt: skip
        owed = []
        for account, times, retries in prepared:
            alone = batch.gathered()
            alone.add(account, times, retries)
            await _plan_alone(services, alone, account)
            owed.append(_earliest_owed(alone))
        return _soonest(owed)
    return _earliest_owed(batch)


def _soonest(times: list[datetime | None]) -> datetime | None:
    return min((at for at in times if at is not None), default=None)


def _earliest_owed(batch: PlanBatch) -> datetime | None:
    """When the earliest message the batch newly owed is due (its unit failed: as planned)."""
    owed = batch.written if batch.written is not None else batch.all_owed()
    return min((m.due_at for m in owed), default=None)


async def _prepared(
    services: Services, account: Account, now: datetime
) -> tuple[Account, list[datetime], list[datetime]]:
    """The account after its `prepare` steps (people first: whoever turns up is planned for
    in this same pass), when they want it looked at again, and the retries of those that
    failed."""
    times: list[datetime] = []
    retries: list[datetime] = []
    for prepare in services.hooks.prepare:
        key = account_step(account.team_id, account.id, "finding people")
        looked = await isolated(services, key, prepare(services, account, now), now)
        if isinstance(looked, Failed):
            retries.append(looked.retry_at)
        else:
            account, recheck = looked
            times += [recheck] if recheck else []
    return account, times, retries


async def _plan_alone(services: Services, batch: PlanBatch, account: Account) -> None:
    key = account_step(account.team_id, account.id, PLANNING)
    planned = await isolated(services, key, _plan(services, batch), batch.now)
    if isinstance(planned, Failed):
        await services.db.run(set_plan_after, account.team_id, account.id, planned.retry_at)


async def _plan(services: Services, batch: PlanBatch) -> None:
    known = services.memo.setdefault(MEMO, {})
    recorded = await services.db.run(_plan_in, services, batch, set(known), immediate=True)
    for key in batch.worked:
        known.pop(key, None)
    known.update(recorded)


def _plan_in(
    session: Session, services: Services, batch: PlanBatch, known: set[FaultKey]
) -> dict[FaultKey, datetime]:
    """The unit: every planner over the accounts still due, then what they owe, the failed
    steps and each account's next planning time, written at once. Returns the failures
    recorded, with when to retry each."""
    batch.keep(still_due(session, {(a.team_id, a.id): a.plan_after for a in batch.accounts}))
    for planner in services.hooks.planners:
        planner(session, services, batch)
    recorded = {}
    for key, failures in batch.failed.items():
        for fault_key, error in failures:
            recorded[fault_key] = retry_at = record_fault(
                session, fault_key, error, batch.now
            ).retry_at
            batch.retries[key].append(retry_at)
    # Planned: so is an account planned alone after a failed unit (`_plan_alone`).
    batch.worked |= {account_step(a.team_id, a.id, PLANNING) for a in batch.accounts}
    clear_faults(session, [k for k in batch.worked if k in known])
    batch.written = enqueue_many(session, batch.all_owed())
    set_plans_after(session, {_key(a): _next_plan(batch, _key(a)) for a in batch.accounts})
    return recorded


def _key(account: Account) -> AccountKey:
    return (account.team_id, account.id)


def _next_plan(batch: PlanBatch, key: AccountKey) -> datetime | None:
    """A failed step: try again after its backoff. Otherwise: when the next message is due."""
    upcoming = batch.retries[key] + [t for t in batch.times[key] if t > batch.now]
    return min(upcoming) if upcoming else None
