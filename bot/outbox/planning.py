"""Planning what Baton owes, account by account, only when an account's time has come.

Each account carries `plan_after`: the next instant anything about it must be planned (the
earliest message it is owed that is still to come). A tick plans only those accounts, so its
cost follows what is due, not the size of the book. Anything that changes an account's plan
(a kickoff, a person found, a CRM change) sets `plan_after` to now. Accounts with people
not yet found in Slack come back hourly to look again.

The planners are the features' (registered in `Hooks.planners`, run in that order after
the `Hooks.prepare` steps that look for people). Each account is planned on its own: a step that fails (Slack trouble, a bad row) is
recorded for that account and retried with backoff (`bot.outbox.faults`), and the others go on.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.outbox.faults import Failed, account_step, isolated
from bot.platform.services import Services
from storage.accounts import due_for_planning, due_for_planning_ids, get_account, set_plan_after
from storage.models import Account


async def plan_due(services: Services, now: datetime, skip_teams: Collection[str] = ()) -> None:
    """Plan every account whose time has come (not those of paused workspaces)."""
    for account in await _due_accounts(services, now, skip_teams):
        await plan_account(services, account, now)


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


async def plan_account(services: Services, account: Account, now: datetime) -> None:
    times: list[datetime] = []
    retries: list[datetime] = []
    # People first: whoever turns up is planned for in this same pass.
    for prepare in services.hooks.prepare:
        key = account_step(account.team_id, account.id, "finding people")
        looked = await isolated(services, key, prepare(services, account, now), now)
        if isinstance(looked, Failed):
            retries.append(looked.retry_at)
        else:
            account, recheck = looked
            times += [recheck] if recheck else []
    for planner in services.hooks.planners:
        key = account_step(account.team_id, account.id, planner.__name__)
        planned = await isolated(services, key, planner(services, account, now), now)
        if isinstance(planned, Failed):
            retries.append(planned.retry_at)
        else:
            times += planned
    # A failed step: try again after its backoff. Otherwise: when the next message is due.
    upcoming = retries + [t for t in times if t > now]
    next_at = min(upcoming) if upcoming else None
    await services.db.run(set_plan_after, account.team_id, account.id, next_at)
