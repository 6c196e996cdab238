"""`/baton reopen <account> [#channel]`: give an account a working channel again.

For when its channel was archived, Baton was removed from it, or Slack would not let Baton
create one. Without a channel Baton opens a new one; with one (that Baton is in) it adopts
it. Either way the people are invited, the topic set, and the messages Baton was holding
for the old channel go to the new one. Managers and workspace admins only.
"""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from bot.accounts.load import Refusal
from bot.accounts.lookup import CHANNEL_MENTION, find_accounts, which_account
from bot.channels.setup import invite_people
from bot.channels.unreachable import channel_problem
from bot.handoff.blocks import topic
from bot.handoff.provision import open_channel, provision
from bot.outbox.owe import about, send_now
from bot.people.permissions import may_act
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.permissions import Action
from storage.accounts import update_account
from storage.models import Account
from storage.outbox import release_held

USAGE = "/baton reopen <account> [#channel]"


async def reopen(services: Services, text: str, command: dict) -> str:
    team, actor = command["team_id"], command["user_id"]
    words = text.split()
    mention = CHANNEL_MENTION.match(words[-1]) if words else None
    name = " ".join(words[:-1]) if mention else text
    accounts = await find_accounts(
        services, team, name, None if mention else command.get("channel_id")
    )
    if len(accounts) != 1:
        raise Refusal(which_account(name, accounts, USAGE))
    account = accounts[0]
    if not await may_act(services, Action.REOPEN, account, actor):
        raise Refusal("Only a manager or a workspace admin can give an account a new channel.")
    old = account.channel_id
    if mention:
        account = await _adopt(services, account, mention.group(1))
    elif old and await channel_problem(services, old) is None:
        return f"<#{old}> still works for {esc(account.name)}: nothing to reopen."
    else:
        account = await _open_new(services, account)
    return await _settle_in(services, account, old)


async def _adopt(services: Services, account: Account, channel: str) -> Account:
    problem = await channel_problem(services, channel)
    if problem is not None:
        raise Refusal(f"Invite @Baton to <#{channel}> first, then run `{USAGE}` again.")
    info = (await services.client.conversations_info(channel=channel))["channel"]
    return await _point_at(services, account, channel, info.get("name") or "")


async def _open_new(services: Services, account: Account) -> Account:
    cleared = await _point_at(services, account, None, None)
    try:
        return await open_channel(services, cleared)
    except SlackApiError as exc:
        await _point_at(services, account, account.channel_id, account.channel_name)
        if exc.response.get("error") == "restricted_action":
            raise Refusal(
                "A workspace setting stops Baton from creating channels: create one, invite "
                f"@Baton to it, then run `/baton reopen {esc(account.name)} #that-channel`."
            ) from None
        raise


async def _point_at(
    services: Services, account: Account, channel: str | None, name: str | None
) -> Account:
    return await services.db.run(
        update_account,
        account.team_id,
        account.id,
        channel_id=channel,
        channel_name=name,
        immediate=True,
    )


async def _settle_in(services: Services, account: Account, old: str | None) -> str:
    """Finish set-up in the new channel and move what was held for the old one."""
    new = account.channel_id or ""
    if account.provisioned_at is None:  # never set up (e.g. Slack refused to create one)
        account = await services.db.run(
            update_account, account.team_id, account.id, setup_until=None, immediate=True
        )
        await provision(services, account)
    else:
        await invite_people(services, account)
        await services.client.conversations_setTopic(channel=new, topic=topic(account))
        was = f" (it replaces <#{old}>)" if old and old != new else ""
        await send_now(
            services,
            about(
                services,
                account,
                f"reopened-{new}",
                new,
                f"This is {esc(account.name)}'s channel now{was}. Baton posts here from now on.",
            ),
        )
    moved = 0
    if old and old != new:
        moved = await services.db.run(release_held, account.team_id, old, services.clock(), new)
    held = f" The {moved} message{'s' * (moved != 1)} Baton was holding follow." if moved else ""
    return f"Done: <#{new}> is now the channel for {esc(account.name)}.{held}"
