"""The customer-facing channel: `ext-<account>`, shared with the customer's champion through
Slack Connect. The account channel stays internal (ARR, health, packet, ratings); only what
is meant for the customer goes here: the welcome, kickoff logistics, the day-30
introduction."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.channels.setup import invite_people, open_channel_for
from bot.handoff.blocks import customer_welcome_text
from bot.outbox.owe import about, send_now
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.channel_names import CUSTOMER_PREFIX
from storage.kinds import MessageKind
from storage.models import Account

log = logging.getLogger(__name__)
# Baton's own side of the shared channel: the people the customer deals with.
CUSTOMER_FACING = ("ae", "csm", "am")


async def open_customer_channel(services: Services, account: Account) -> Account:
    """Create the shared channel (once), bring in our side, welcome, invite the champion."""
    if account.ext_channel_id is None:
        account = await open_channel_for(
            services, account, CUSTOMER_PREFIX, "ext_channel_id", "ext_channel_name"
        )
    assert account.ext_channel_id is not None
    await invite_people(services, account, account.ext_channel_id, CUSTOMER_FACING)
    await send_now(
        services,
        about(
            services,
            account,
            "customer-welcome",
            account.ext_channel_id,
            customer_welcome_text(account),
            kind=MessageKind.CUSTOMER,
        ),
    )
    await _invite_champion(services, account)
    return account


async def _invite_champion(services: Services, account: Account) -> None:
    try:
        await services.client.conversations_inviteShared(
            channel=account.ext_channel_id, emails=account.champion_email
        )
    except SlackApiError as exc:
        error = exc.response.get("error")
        log.warning("Slack Connect invite for account %s failed: %s", account.id, error)
        await send_now(
            services,
            about(
                services,
                account,
                "connect-failed",
                account.channel_id or "",
                f"I could not invite the champion {esc(account.champion_email)} to "
                f"<#{account.ext_channel_id}> through Slack Connect ({esc(error)}). Invite them "
                "there by hand; this channel stays internal.",
            ),
        )
