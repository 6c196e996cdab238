"""Every feature, in the order its hooks run: people and channels around every send, the
handoff's, check-ins', ownership's and the renewal clock's planning and tick stages; and
every feature's listeners and `/baton` subcommands."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.admin import listeners as admin_listeners
from bot.channels import hooks as channels
from bot.channels import listeners as channels_listeners
from bot.checkins import hooks as checkins
from bot.checkins import listeners as checkins_listeners
from bot.handoff import hooks as handoff
from bot.handoff import listeners as handoff_listeners
from bot.ownership import hooks as ownership
from bot.ownership import listeners as ownership_listeners
from bot.people import hooks as people
from bot.platform import slash
from bot.platform.commands import Commands
from bot.platform.hooks import Hooks
from bot.platform.services import Services
from bot.renewal import hooks as renewal
from bot.renewal import listeners as renewal_listeners
from bot.stats import hooks as stats
from bot.stats import listeners as stats_listeners

# Planners run handoff → check-ins → renewal; after planning: digests, catch-up, held.
HOOKED = (people, handoff, checkins, ownership, renewal, channels, stats)
# Each has SUBCOMMANDS and register(app, services); the help's order is the subcommands' rank.
LISTENING = (
    slash,
    handoff_listeners,
    checkins_listeners,
    renewal_listeners,
    ownership_listeners,
    admin_listeners,
    stats_listeners,
    channels_listeners,
)


def install_hooks(hooks: Hooks) -> Hooks:
    for feature in HOOKED:
        feature.register(hooks)
    return hooks


def install_commands(commands: Commands) -> Commands:
    for feature in LISTENING:
        commands.add(*feature.SUBCOMMANDS)
    return commands


def register_listeners(app: AsyncApp, services: Services) -> None:
    for feature in LISTENING:
        feature.register(app, services)
