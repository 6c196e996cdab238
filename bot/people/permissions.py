"""Which roles a person holds, so that `flows.permissions` can say what they may do.

Roles on an account come from the account itself, BATON_MANAGERS and coverage windows;
whether someone is a workspace admin is asked of Slack only when it could change the
answer (it costs a users.info call).
"""

from __future__ import annotations

from enum import StrEnum

from bot.accounts.ops import nudged
from bot.people.cover import acting_for
from bot.people.managers import is_admin
from bot.platform.services import Services
from flows.permissions import Action, Role, may, needs_admin_check
from storage.models import Account
from storage.portfolio import is_known_ae, manages_any, manages_holder

HOLDER_ROLES = {"ae": Role.AE, "csm": Role.CSM, "am": Role.AM, "ops": Role.OPS}
EVERY_HOLDER = tuple(HOLDER_ROLES)


async def account_roles(
    services: Services,
    team_id: str,
    user_id: str,
    account: Account,
    holders: tuple[str, ...] = EVERY_HOLDER,
) -> set[Role]:
    """The roles `user_id` holds on `account` right now (admin not included). `holders`:
    which of the account's roles the action belongs to (the AE's packet, the owners of a
    milestone); holding or covering for another of its roles gives nothing here. The Ops
    role is held by whoever gets its steps (`bot.accounts.ops.nudged`)."""
    keys = [key for key in holders if key in HOLDER_ROLES]
    people = {key: nudged(services, account, key) for key in keys}
    roles = {HOLDER_ROLES[key] for key in keys if people[key] == user_id}
    if services.is_manager(user_id, account.manager_user_id):
        roles.add(Role.MANAGER)
    covered = set(people.values()) - {None, user_id}
    if covered:
        acting = await services.db.run(acting_for, team_id, user_id, services.clock())
        if acting & covered:
            roles.add(Role.BACKUP)
    return roles


async def allowed(services: Services, action: Action, user_id: str, roles: set[Role]) -> bool:
    """`may`, asking Slack whether the person is an admin only when that could matter."""
    if may(action, roles):
        return True
    return needs_admin_check(action, roles) and await is_admin(services, user_id)


class Creator(StrEnum):
    """Why someone may create accounts, which says how far they may go."""

    MANAGER = "manager"  # BATON_MANAGERS, the manager of some account, or an admin: anything
    LISTED = "listed"  # named in BATON_CREATORS: any account, never naming themselves manager
    OWN_DEALS = "own deals"  # an AE Baton already knows (the default): accounts they are AE of


async def creator_kind(services: Services, team_id: str, user_id: str) -> Creator | None:
    """How `user_id` may create accounts, or None if they may not."""
    db = services.db
    if user_id in services.managers or await db.run(manages_any, team_id, user_id):
        return Creator.MANAGER
    if services.settings.baton_creators:
        kind = Creator.LISTED if user_id in services.creators else None
    else:
        known = await db.run(is_known_ae, team_id, user_id)
        kind = Creator.OWN_DEALS if known else None
    return Creator.MANAGER if await is_admin(services, user_id) else kind


async def may_act(
    services: Services,
    action: Action,
    account: Account,
    user_id: str,
    holders: tuple[str, ...] = EVERY_HOLDER,
) -> bool:
    """Whether `user_id` may take `action` on `account` (see `account_roles`)."""
    roles = await account_roles(services, account.team_id, user_id, account, holders)
    return await allowed(services, action, user_id, roles)


async def may_see_status(services: Services, user_id: str) -> bool:
    """A BATON_MANAGERS member or an admin: Baton's workspace-wide operators."""
    return await allowed(
        services,
        Action.STATUS,
        user_id,
        {Role.MANAGER} if user_id in services.managers else set(),
    )


async def may_see_stats(services: Services, team_id: str, user_id: str) -> bool:
    """A manager (of some account, or BATON_MANAGERS) or an admin: the numbers cover the
    whole team's accounts."""
    manager = user_id in services.managers or await services.db.run(manages_any, team_id, user_id)
    return await allowed(services, Action.STATS, user_id, {Role.MANAGER} if manager else set())


async def may_cover(services: Services, team_id: str, actor: str, person: str) -> bool:
    """Cover for yourself; for someone else: a manager of one of their accounts, a
    BATON_MANAGERS member, or an admin."""
    if actor == person:
        return True
    manager = actor in services.managers or await services.db.run(
        manages_holder, team_id, actor, person
    )
    roles = {Role.MANAGER} if manager else set()
    return await allowed(services, Action.COVER_OTHER, actor, roles)
