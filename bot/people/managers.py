"""Who counts as a manager or a creator: the people named in BATON_MANAGERS and
BATON_CREATORS, and the members of the user groups named there (refreshed at start and
every few minutes by the tick), besides each account's own manager."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.platform.groups import ManagerGroups

log = logging.getLogger(__name__)
REFRESH_EVERY = timedelta(minutes=5)


async def refresh_managers(services, force: bool = False) -> None:  # noqa: ANN001
    """Re-read the configured user groups if they are older than a few minutes."""
    settings = services.settings
    groups = settings.manager_groups | settings.creator_groups
    cache: ManagerGroups = services.groups
    if not groups:
        return
    async with cache.lock:
        now = services.clock()
        if not force and cache.refreshed_at and now - cache.refreshed_at < REFRESH_EVERY:
            return
        try:
            cache.by_group = await _read_groups(services.client, groups)
        except SlackApiError as exc:
            log.warning("could not read the user groups: %s", exc.response.get("error"))
        cache.refreshed_at = now


def next_refresh(services) -> datetime | None:  # noqa: ANN001
    """When `refresh_managers` next reads the user groups (None: no group is configured)."""
    settings = services.settings
    if not settings.manager_groups | settings.creator_groups:
        return None
    refreshed = services.groups.refreshed_at
    return services.clock() if refreshed is None else refreshed + REFRESH_EVERY


async def _read_groups(client, groups: frozenset[str]) -> dict[str, frozenset[str]]:  # noqa: ANN001
    """Configured name (a handle such as @cs-leads, or an id) → the group's members."""
    listing = await client.usergroups_list()
    wanted: dict[str, str] = {}  # group id → the configured name
    for group in listing.get("usergroups", []):
        handle = "@" + str(group.get("handle", "")).lower()
        for name in (group["id"], handle):
            if name in groups:
                wanted[group["id"]] = name
    found: dict[str, frozenset[str]] = {}
    for group_id, name in sorted(wanted.items()):
        response = await client.usergroups_users_list(usergroup=group_id)
        found[name] = frozenset(response.get("users", []))
    return found


async def is_admin(services, user_id: str) -> bool:  # noqa: ANN001
    """A workspace admin or owner, asked of Slack each time (it guards reassignment)."""
    try:
        response = await services.client.users_info(user=user_id)
    except SlackApiError:
        return False
    user = response.get("user") or {}
    if user.get("deleted"):
        return False
    return bool(user.get("is_admin") or user.get("is_owner"))
