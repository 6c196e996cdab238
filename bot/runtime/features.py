"""Every feature, in the order its hooks run: people and channels around every send, the
handoff's, check-ins', ownership's and the renewal clock's planning and tick stages."""

from __future__ import annotations

from bot.channels import hooks as channels
from bot.checkins import hooks as checkins
from bot.handoff import hooks as handoff
from bot.ownership import hooks as ownership
from bot.people import hooks as people
from bot.platform.hooks import Hooks
from bot.renewal import hooks as renewal

# Planners run handoff → check-ins → renewal; after planning: digests, catch-up, held.
HOOKED = (people, handoff, checkins, ownership, renewal, channels)


def install_hooks(hooks: Hooks) -> Hooks:
    for feature in HOOKED:
        feature.register(hooks)
    return hooks
