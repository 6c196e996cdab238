"""When Slack says a recipient cannot be reached: a person whose account was deactivated,
an account channel that was archived or that Baton was removed from.

Messages owed there are held by the delivery (never failed, never retried in a loop). Each
tick looks at the held ones whose time has come, at most every PROBE_EVERY per channel:
- a person: users.info. Deactivated: remembered, announced once in their accounts'
  channels, and what they were owed goes to the account's manager (or the backup covering
  for them). Not deactivated: Slack's refusal was about something else; it fails.
- a channel: conversations.info. Usable again (unarchived, Baton invited back): the held
  messages flow. Not yet: the account's manager is told once, naming the channel and the
  way out (unarchive it, invite @Baton back, or `/baton reopen <account>`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.channels.internal import SHARED, exposed, mark_exposed, mark_internal
from bot.outbox.owe import about, send_now
from bot.people.cover import stand_in_for
from bot.people.directory import remember_user
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.ownership_args import BARE_USER_ID
from storage.accounts import account_in_channel, get_account
from storage.models import Account
from storage.outbox import Held, defer_held, fail_held, held_due, release_held
from storage.portfolio import Scope, scoped_accounts

log = logging.getLogger(__name__)
PROBE_EVERY = timedelta(minutes=10)
RATE_LIMITED = "ratelimited"
RATE_LIMITED_PROBE = timedelta(minutes=1)
CHANNEL_GONE = ("is_archived", "not_in_channel", "channel_not_found")
ROLES = (("ae", "AE"), ("csm", "CSM"), ("am", "AM"), ("manager", "manager"))


async def settle_held(services: Services, now: datetime) -> None:
    for held in await services.db.run(held_due, now):
        try:
            if BARE_USER_ID.match(held.channel):
                await _settle_person(services, held, now)
            else:
                await _settle_channel(services, held, now)
        except SlackApiError as exc:  # Slack trouble: look again later, never in a loop
            log.warning(
                "held messages for %s: Slack said %s", held.channel, exc.response.get("error")
            )
            await services.db.run(defer_held, held.team_id, held.channel, now + PROBE_EVERY)


# --- people ---------------------------------------------------------------------------
async def _settle_person(services: Services, held: Held, now: datetime) -> None:
    db, team = services.db, held.team_id
    try:
        user = (await services.client.users_info(user=held.channel))["user"]
    except SlackApiError as exc:
        if exc.response.get("error") != "user_not_found":
            raise
        await db.run(fail_held, team, held.channel, "user_not_found")
        return
    if not user.get("deleted"):
        await db.run(fail_held, team, held.channel, held.error)
        return
    await on_deactivated(services, team, user)
    await db.run(release_held, team, held.channel, now)


async def on_deactivated(services: Services, team_id: str, user: dict[str, Any]) -> None:
    """Slack says this person is deactivated: remember it and say so, once per account."""
    await remember_user(services, team_id, user)
    user_id = user["id"]
    accounts = await services.db.run(
        scoped_accounts, Scope(team_id, manager=user_id, holders=(user_id,))
    )
    notes = [
        about(
            services,
            account,
            f"deactivated-{user_id}",
            account.channel_id,
            _deactivated_text(services, account, user_id),
        )
        for account in accounts
        if account.channel_id
    ]
    await send_now(services, *notes)


def _deactivated_text(services: Services, account: Account, user_id: str) -> str:
    key, role = next(((k, name) for k, name in ROLES if account.user_of(k) == user_id), ("", ""))
    stand_in = stand_in_for(services.settings.managers, account, user_id, set())
    goes = f"go to <@{stand_in}>" if stand_in else "are dropped: it has no manager to take them"
    how = (
        "Update the account's manager in the CRM."
        if key in ("manager", "")
        else f"A manager can hand the role over with `/baton assign {esc(account.name)} {key} @person`."
    )
    return (
        f":warning: <@{user_id}> ({role or 'owner'}) has been deactivated in Slack. The "
        f"messages Baton owed them about {esc(account.name)} now {goes}. {how}"
    )


# --- channels -------------------------------------------------------------------------
async def _settle_channel(services: Services, held: Held, now: datetime) -> None:
    db, team = services.db, held.team_id
    account = await _account_of(services, held)
    internal = account is not None and account.channel_id == held.channel
    problem = await channel_problem(services, held.channel, internal)
    if problem is None:
        if internal and account is not None and account.channel_shared_at is not None:
            await mark_internal(services, account, now)  # releases what was held
            return
        released = await db.run(release_held, team, held.channel, now)
        log.info("%s is usable again: %s held messages owed again", held.channel, released)
        return
    if problem == SHARED:  # the manager is told once, when it is first seen
        assert account is not None
        await mark_exposed(services, account, now, "Slack shows it shared")
    elif problem in CHANNEL_GONE:
        if account is None:  # no account's channel: nobody can bring it back
            await db.run(fail_held, team, held.channel, problem)
            return
        await _tell_manager(services, account, held, problem)
    # Slack could not be asked just now (rate limits): look again soon, not in ten minutes.
    again = RATE_LIMITED_PROBE if problem == RATE_LIMITED else PROBE_EVERY
    await db.run(defer_held, team, held.channel, now + again)


async def channel_problem(services: Services, channel: str, internal: bool = False) -> str | None:
    """Why Baton cannot post in this channel now (None: it can). An `internal` (account)
    channel is also unusable while it is shared outside the company."""
    try:
        info = (await services.client.conversations_info(channel=channel))["channel"]
    except SlackApiError as exc:
        return str(exc.response.get("error") or "unknown")
    if info.get("is_archived"):
        return "is_archived"
    if not info.get("is_member"):
        return "not_in_channel"
    if internal and exposed(info):
        return SHARED
    return None


async def _tell_manager(services: Services, account: Account, held: Held, problem: str) -> None:
    manager = stand_in_for(services.settings.managers, account, "", set())
    if manager is None:
        log.warning(
            "account %s: its channel is unusable (%s) and it has no manager", account.id, problem
        )
        return
    text = channel_trouble_text(account, problem)
    await send_now(
        services,
        about(services, account, f"channel-held-{held.channel}-{held.first_id}", manager, text),
    )


async def _account_of(services: Services, held: Held) -> Account | None:
    db = services.db
    account = await db.run(account_in_channel, held.team_id, held.channel)
    if account is None and held.account_ids:
        account = await db.run(get_account, held.team_id, held.account_ids[0])
    return account


def channel_trouble_text(account: Account, problem: str) -> str:
    channel = f"#{account.channel_name}" if account.channel_name else "its channel"
    reopen = f"or run `/baton reopen {esc(account.name)}` to give the account a new channel"
    if problem == "is_archived":
        cause = f"{channel}, the channel for {esc(account.name)}, was archived"
        fix = f"Unarchive {channel} and they go out within {_minutes()} minutes, {reopen}."
    else:
        cause = f"Baton was removed from {channel}, the channel for {esc(account.name)}"
        fix = (
            f"Invite @Baton back (`/invite @Baton` in {channel}) and they go out within "
            f"{_minutes()} minutes, {reopen}."
        )
    return f":warning: {cause}, so Baton is holding the messages owed there. {fix}"


def _minutes() -> int:
    return int(PROBE_EVERY.total_seconds() // 60)


# --- a channel Baton may not create ---------------------------------------------------
async def creation_refused(services: Services, account: Account) -> None:
    """conversations.create answered restricted_action: tell the manager once, and how."""
    db = services.db
    account = await db.run(get_account, account.team_id, account.id) or account
    manager = stand_in_for(services.settings.managers, account, "", set())
    if manager is None:
        log.warning("account %s: Slack will not let Baton create channels", account.id)
        return
    text = (
        f":warning: Baton could not create a channel for {esc(account.name)}: a workspace setting "
        "stops apps from creating channels. Ask a workspace admin to let Baton create "
        "channels (Workspace settings → Permissions → Channel Management) and Baton tries "
        f"again within the hour, or create a channel yourself, invite @Baton to it and run "
        f"`/baton reopen {esc(account.name)} #that-channel`."
    )
    await send_now(services, about(services, account, "channel-create-refused", manager, text))
