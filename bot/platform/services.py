"""What every listener and job needs, built once per process."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.platform.budget import Budget
from bot.platform.clock import Clock
from bot.platform.commands import Commands
from bot.platform.groups import ManagerGroups
from bot.platform.hooks import Hooks
from bot.platform.serving import Serving
from bot.platform.settings import Settings
from bot.platform.wake import Wake
from storage.db import Database
from storage.models import Account


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database  # every unit of database work runs through it
    clock: Clock
    client: AsyncWebClient  # for calls other than owed messages (retries rate limits)
    sender: AsyncWebClient  # the outbox's client: never waits or retries (see slack_client)
    budget: Budget  # Slack's rate limits, which both clients keep to
    groups: ManagerGroups = field(default_factory=ManagerGroups)  # see bot.people.managers
    memo: dict = field(default_factory=dict)  # per-process shortcuts, never the truth
    hooks: Hooks = field(default_factory=Hooks)  # what the features plug in (bot.runtime.features)
    commands: Commands = field(default_factory=Commands)  # `/baton` subcommands, likewise
    setup_wanted: Wake = field(default_factory=Wake)  # wakes the set-up worker, from any thread
    tick_wanted: Wake = field(default_factory=Wake)  # ticks now: another process owed messages
    serving: Serving = field(default_factory=Serving)  # requests in flight: they go first

    @property
    def engine(self) -> Engine:
        """For what works on the engine itself: migrations, a ping, disposal."""
        return self.db.engine

    @property
    def managers(self) -> frozenset[str]:
        """The managers of every account: BATON_MANAGERS people and user-group members."""
        return self.settings.managers | self.groups.members_of(self.settings.manager_groups)

    @property
    def creators(self) -> frozenset[str]:
        """BATON_CREATORS people and user-group members (empty: the default applies)."""
        return self.settings.creators | self.groups.members_of(self.settings.creator_groups)

    def managers_of(self, account: Account) -> list[str]:
        """The account's manager; failing that, the managers configured for every account."""
        if account.manager_user_id:
            return [account.manager_user_id]
        return sorted(self.managers)

    def today(self, now: datetime | None = None) -> date:
        """The business calendar's date (BATON_TIMEZONE) now, or at `now`."""
        return (now or self.clock()).astimezone(self.settings.timezone).date()

    def is_manager(self, user_id: str, account_manager: str | None = None) -> bool:
        return user_id in self.managers or (
            account_manager is not None and user_id == account_manager
        )
