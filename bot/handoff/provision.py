"""Setting up an account in Slack. Every step can be repeated safely, so a failure half-way
(Slack down, rate limited, a crash) is finished by the next tick, not done twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.accounts.facts import note_ownership_in
from bot.channels.setup import invite_people, open_channel_for
from bot.channels.unreachable import creation_refused
from bot.handoff.blocks import (
    found_text,
    gap_text,
    marketing_request_blocks,
    packet_dm_blocks,
    packet_request_blocks,
    topic,
    welcome_blocks,
)
from bot.handoff.customer import open_customer_channel
from bot.handoff.people import resolve_missing, unresolved
from bot.outbox.owe import about, send_now
from bot.platform.kit import esc
from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from flows.channel_names import PREFIX
from storage.accounts import (
    defer_setup,
    lease_setup,
    postpone_setup,
    release_setup,
    update_account,
)
from storage.models import Account
from storage.outbox import OwedMessage
from storage.ownership import ownership_events

log = logging.getLogger(__name__)
SETUP_LEASE = timedelta(minutes=2)
CREATE_RETRY = timedelta(hours=1)  # after restricted_action: a setting, not a blip


async def provision(services: Services, account: Account) -> Account:
    """Find the people, open the channel, invite them, and ask the AE for the packet.

    Under a lease: two deliveries of one new deal (or a tick and a delivery) must not both
    create a channel. Whoever does not get the lease leaves the work to the holder.
    """
    db, team = services.db, account.team_id
    token = await db.run(lease_setup, team, account.id, services.clock(), SETUP_LEASE)
    if token is None:
        return account
    try:
        return await _provision(services, account)
    except OverBudget as exc:  # not a failure: owed again once Slack's limits allow
        until = services.clock() + timedelta(seconds=exc.wait)
        await db.run(postpone_setup, team, account.id, token, until)
        token = None
        raise
    except SlackApiError as exc:
        if exc.response.get("error") != "restricted_action":
            raise
        await creation_refused(services, account)
        until = services.clock() + CREATE_RETRY
        await db.run(defer_setup, team, account.id, token, until)
        token = None
        return account
    finally:
        if token is not None:
            await db.run(release_setup, team, account.id, token)


async def _provision(services: Services, account: Account) -> Account:
    account = await refresh_people(services, account, announce=False)
    if account.channel_id is None:
        account = await open_channel(services, account)
    await invite_people(services, account)
    client = services.client
    if account.channel_shared_at is None:  # the topic shows ARR: internal only
        await client.conversations_setTopic(channel=account.channel_id, topic=topic(account))
    first_time = account.provisioned_at is None
    if first_time and account.crm_url:
        await client.bookmarks_add(
            channel_id=account.channel_id, title="CRM record", type="link", link=account.crm_url
        )
    await _announce(services, account)
    if first_time and services.settings.baton_slack_connect and account.champion_email:
        account = await open_customer_channel(services, account)
    return await services.db.run(
        update_account,
        account.team_id,
        account.id,
        provisioned_at=services.clock(),
        people_checked_at=services.clock(),
        setup_due_at=None,
        immediate=True,
    )


async def refresh_people(services: Services, account: Account, *, announce: bool = True) -> Account:
    """Look again for people not found in Slack; invite and announce whoever turned up."""
    found = await resolve_missing(services, account)
    updates: dict[str, object] = {f"{role}_user_id": uid for role, uid in found.items()}
    if found:
        updates["plan_after"] = services.clock()  # new people: plan what they are owed
    account = await services.db.run(
        update_account,
        account.team_id,
        account.id,
        people_checked_at=services.clock(),
        **updates,
        immediate=True,
    )
    await services.db.run(_note_people, services, account, services.clock(), immediate=True)
    if announce and found and account.channel_id:
        await invite_people(services, account)
        messages = [
            about(
                services,
                account,
                f"found-{role}-{user_id}",
                account.channel_id,
                found_text(account, role, user_id),
            )
            for role, user_id in found.items()
        ]
        if "ae" in found and account.packet_completed_at is None:
            messages.append(_packet_dm(services, account))
        await send_now(services, *messages)
    return account


def _note_people(session: Session, services: Services, account: Account, now: datetime) -> bool:
    """The trail's entry for the people as Slack knows them: a deal's first ("closed-won"),
    unless its trail already begins (an import's "CSV import"): then who was found."""
    first = account.provisioned_at is None and not ownership_events(
        session, account.team_id, account.id
    )
    cause = "closed-won" if first else "found in Slack"
    return note_ownership_in(session, services, account.team_id, account.id, cause, now=now)


async def open_channel(services: Services, account: Account) -> Account:
    return await open_channel_for(services, account, PREFIX, "channel_id", "channel_name")


def _packet_dm(services: Services, account: Account) -> OwedMessage:
    return about(
        services,
        account,
        f"packet-ask-dm-{account.ae_user_id}",
        account.ae_user_id or "",
        f"Please fill the handoff packet for {esc(account.name)}.",
        blocks=packet_dm_blocks(account),
    )


async def _announce(services: Services, account: Account) -> None:
    today = services.clock().date()
    marketing_required = services.settings.baton_marketing_required
    messages = [
        about(
            services,
            account,
            "welcome",
            account.channel_id or "",
            f"Welcome, {esc(account.name)}.",
            blocks=welcome_blocks(account, today),
        ),
    ]
    if account.packet_completed_at is None:
        messages.append(
            about(
                services,
                account,
                "packet-ask-channel",
                account.channel_id or "",
                f"The handoff packet for {esc(account.name)} is due.",
                blocks=packet_request_blocks(account, marketing_required),
            )
        )
        if account.ae_user_id:
            messages.append(_packet_dm(services, account))
        for user_id in sorted(services.settings.marketing_users):
            messages.append(
                about(
                    services,
                    account,
                    f"marketing-ask-{user_id}",
                    user_id,
                    f"Marketing context wanted for {esc(account.name)}.",
                    blocks=marketing_request_blocks(account),
                )
            )
    for role, email in unresolved(account).items():
        text = gap_text(account, role, email)
        messages.append(
            about(services, account, f"gap-{role}-{email}", account.channel_id or "", text)
        )
        if account.manager_user_id:
            messages.append(
                about(
                    services, account, f"gap-{role}-{email}-manager", account.manager_user_id, text
                )
            )
    await send_now(services, *messages)
