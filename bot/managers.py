"""Who counts as a manager: each account's manager, the people named in BATON_MANAGERS,
and the members of the user groups named there (refreshed every few minutes)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)
REFRESH_EVERY = timedelta(minutes=5)


@dataclass
class ManagerGroups:
    """The members of the manager user groups, as last read from Slack."""

    members: frozenset[str] = frozenset()
    refreshed_at: datetime | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def refresh_managers(services, force: bool = False) -> frozenset[str]:  # noqa: ANN001
    """Re-read the manager user groups if they are older than a few minutes."""
    groups = services.settings.manager_groups
    cache: ManagerGroups = services.groups
    if not groups:
        return cache.members
    async with cache.lock:
        now = services.clock()
        if not force and cache.refreshed_at and now - cache.refreshed_at < REFRESH_EVERY:
            return cache.members
        try:
            cache.members = await _read_groups(services.client, groups)
        except SlackApiError as exc:
            log.warning("could not read manager user groups: %s", exc.response.get("error"))
        cache.refreshed_at = now
        return cache.members


async def _read_groups(client, groups: frozenset[str]) -> frozenset[str]:  # noqa: ANN001
    listing = await client.usergroups_list()
    ids = {
        g["id"]
        for g in listing.get("usergroups", [])
        if g["id"] in groups or "@" + str(g.get("handle", "")).lower() in groups
    }
    members: set[str] = set()
    for group_id in sorted(ids):
        response = await client.usergroups_users_list(usergroup=group_id)
        members.update(response.get("users", []))
    return frozenset(members)


async def is_admin(services, user_id: str) -> bool:  # noqa: ANN001
    """A workspace admin or owner, asked of Slack each time (it guards reassignment)."""
    try:
        response = await services.client.users_info(user=user_id)
    except SlackApiError:
        return False
    user = response.get("user") or {}
    return bool(user.get("is_admin") or user.get("is_owner"))
