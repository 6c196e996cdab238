"""The account's Ops person, who owns the playbook's Ops steps (the day-7 account
confirmation, contract logistics): its own (ops_email, found in Slack), else the first of
BATON_OPS_USERS. With neither, the CSM is nudged for those steps, and told why."""

from __future__ import annotations

from bot.platform.services import Services
from storage.models import Account

OPS = "ops"


def ops_people(services: Services, account: Account) -> tuple[str, ...]:
    """Who is shown as the account's Ops: its own Ops person, else every BATON_OPS_USERS
    member in the order given (the first owns the steps)."""
    return (account.ops_user_id,) if account.ops_user_id else services.settings.ops_users


def ops_user(services: Services, account: Account) -> str | None:
    """The one who owns the account's Ops steps (None: nobody is known)."""
    return next(iter(ops_people(services, account)), None)


def holder(services: Services, account: Account, role: str) -> str | None:
    """Who holds `role` on the account: the Ops person for "ops", else the account's own."""
    return ops_user(services, account) if role == OPS else account.user_of(role)


def nudged(services: Services, account: Account, role: str) -> str | None:
    """Who gets the nudge of a step `role` owns: its holder; the CSM for an Ops step of an
    account whose Ops person is not known (never nobody)."""
    person = holder(services, account, role)
    return person or (account.csm_user_id if role == OPS else None)
