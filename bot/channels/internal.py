"""Nothing internal reaches people outside the company.

The account channel carries ARR, health flags, churn risks, packet contents and ratings:
it is never shared. Customers get their own channel (`bot.handoff.customer`). Should
someone share an account channel by hand (Slack Connect, or a guest added), Baton stops
posting there and tells the account's manager, holding what it owed (the outbox's `held`
status) until the channel is internal again. Baton learns of it from Slack's events
(channel_shared, member_joined_channel) and, before posting, from `conversations.info`
(looked at again every few minutes); held messages are looked after by `bot.channels.unreachable`,
which releases them once Slack shows the channel internal again.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.platform.kit import esc
from bot.platform.services import Services
from bot.platform.slack_ids import is_person
from storage.accounts import account_in_channel, get_account, set_channel_exposure
from storage.kinds import MessageKind, SubjectType
from storage.models import Account
from storage.outbox import Claim, OwedMessage, enqueue, release_held

log = logging.getLogger(__name__)
CHECK_EVERY = timedelta(minutes=10)
TRUST_LAST_CHECK = timedelta(hours=1)  # Slack can't be asked now: a recent "internal" holds
SHARED = "shared_outside_the_company"  # why its messages are held (the outbox's last_error)
UNCHECKED = "channel_not_checked"  # Slack would not say (rate limited, down): held, looked at
GONE = frozenset({"channel_not_found", "is_archived", "not_in_channel"})
# Messages meant for the customer (they go to the customer channel, never the internal one).
CUSTOMER_KINDS = frozenset(
    {MessageKind.CUSTOMER, MessageKind.CUSTOMER_INTRO, MessageKind.CUSTOMER_CONTACTS}
)


def exposed(channel: dict[str, Any]) -> bool:
    """Whether people outside the company can read this channel (conversations.info)."""
    org_only = channel.get("is_org_shared") and not channel.get("is_ext_shared")
    return bool(
        channel.get("is_ext_shared")
        or channel.get("is_pending_ext_shared")
        or (channel.get("is_shared") and not org_only)
    )


async def hold_reason(services: Services, claim: Claim, now: datetime) -> str | None:
    """Why this message must not go to its channel now (None: it may)."""
    if claim.account_id is None or claim.kind in CUSTOMER_KINDS or is_person(claim.channel):
        return None  # a DM (posted to a user id) is never the account's channel
    account = await services.db.run(get_account, claim.team_id, claim.account_id)
    if account is None or not account.channel_id or claim.channel != account.channel_id:
        return None
    checked = account.channel_checked_at
    if checked is None or now - checked >= CHECK_EVERY:
        try:
            response = await services.sender.conversations_info(channel=account.channel_id)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or "")
            log.warning("account %s: could not look at its channel (%s)", account.id, error)
            if error in GONE:  # posting fails the same way, and is held for that reason
                return None
            recent = checked is not None and now - checked < TRUST_LAST_CHECK
            if account.channel_shared_at is None and recent:
                return None
            return SHARED if account.channel_shared_at is not None else UNCHECKED
        account = await _settle(services, account, exposed(response["channel"]), now)
    return SHARED if account.channel_shared_at is not None else None


async def _settle(services: Services, account: Account, shared: bool, now: datetime) -> Account:
    if shared and account.channel_shared_at is None:
        return await mark_exposed(services, account, now, "Slack shows it shared")
    if not shared and account.channel_shared_at is not None:
        return await mark_internal(services, account, now)
    return await services.db.run(
        set_channel_exposure,
        account.team_id,
        account.id,
        account.channel_shared_at,
        now,
        immediate=True,
    )


async def mark_exposed(services: Services, account: Account, now: datetime, how: str) -> Account:
    """Stop posting internal messages there, and tell the account's manager (once)."""
    if account.channel_shared_at is not None:
        return account
    account = await services.db.run(
        set_channel_exposure, account.team_id, account.id, now, now, immediate=True
    )
    log.warning("account %s: its channel %s is shared outside the company (%s)",
                account.id, account.channel_id, how)  # fmt: skip
    text = (
        f":no_entry: <#{account.channel_id}>, the internal channel of *{esc(account.name)}*, "
        "is now shared with people outside the company. It carries ARR, health flags, churn "
        "risks and the handoff packet, so I have stopped posting there and am holding what I "
        "owe it. To resume, remove the external organisation or guests from the channel "
        "(channel settings → *Manage members* / *Stop sharing*)."
    )
    if account.ext_channel_id:
        text += f" The customer's channel is <#{account.ext_channel_id}>."
    # Owed, not sent from here: delivery itself may be asking (the next tick sends it).
    stamp = f"{now:%Y%m%dT%H%M%S}"
    for manager in services.managers_of(account):
        notice = OwedMessage(
            team_id=account.team_id,
            dedupe_key=f"channel-exposed-{stamp}-{manager}:{account.id}",
            channel=manager,
            text=text,
            due_at=now,
            account_id=account.id,
            subject_type=SubjectType.ACCOUNT,
            subject_id=str(account.id),
        )
        await services.db.run(enqueue, notice)
    return account


async def mark_internal(services: Services, account: Account, now: datetime) -> Account:
    """Internal again: what was held goes out now."""
    account = await services.db.run(
        set_channel_exposure, account.team_id, account.id, None, now, immediate=True
    )
    released = await services.db.run(release_held, account.team_id, account.channel_id or "", now)
    log.info("account %s: its channel is internal again; %s held messages released",
             account.id, released)  # fmt: skip
    return account


async def on_channel_event(
    services: Services, team_id: str, channel_id: str, shared: bool, how: str
) -> None:
    """channel_shared / channel_unshared (and a guest or outsider joining)."""
    account = await services.db.run(account_in_channel, team_id, channel_id)
    if account is None or account.channel_id != channel_id:
        return
    now = services.clock()
    if shared:
        await mark_exposed(services, account, now, how)
    elif account.channel_shared_at is not None:
        # Unshared from one organisation: Slack says whether others remain; ask it.
        response = await services.client.conversations_info(channel=channel_id)
        await _settle(services, account, exposed(response["channel"]), now)
