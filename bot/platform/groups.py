"""The members of the user groups named in BATON_MANAGERS and BATON_CREATORS, as last
read from Slack (`bot.people.managers` refreshes them)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ManagerGroups:
    """The members of the configured user groups (by handle or id), as last read from Slack."""

    by_group: dict[str, frozenset[str]] = field(default_factory=dict)
    refreshed_at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def members_of(self, groups: frozenset[str]) -> frozenset[str]:
        return frozenset().union(*(self.by_group.get(g, frozenset()) for g in groups))
