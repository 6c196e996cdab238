"""Who may do what: every action Baton takes for a person, and the roles that may ask for it.

The roles are a person's relation to the account acted on (or, for workspace-wide actions,
to the workspace). The bot works out which roles someone holds; this table alone says what
they allow. The README's permission table is rendered from it (a test keeps them equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Role(StrEnum):
    AE = "AE"
    CSM = "CSM"
    AM = "AM"
    OPS = "Ops"  # the account's Ops person (or BATON_OPS_USERS' first; the CSM standing in)
    MANAGER = "manager"  # the account's manager, or a BATON_MANAGERS member (every account)
    ADMIN = "admin"  # a workspace admin or owner
    BACKUP = "backup"  # covering (/baton cover) for one of the account's AE, CSM, AM or Ops
    ANYONE = "anyone else"  # any other member of the workspace (never a guest or outsider)


class Action(StrEnum):
    CREATE_ACCOUNT = "Create an account (`/baton new`, a new CRM id)"
    CHANGE_ACCOUNT = "Change an existing account (`/baton new` with its CRM id)"
    FILL_PACKET = "Fill or edit the AE part of the handoff packet"
    ADD_MARKETING = "Add the marketing context to the packet"
    ACKNOWLEDGE_PACKET = "Acknowledge the packet, or open the questions thread"
    LOG_KICKOFF = "Log the kickoff (*Kickoff held*)"
    LOG_CHECKIN = "Log a check-in (`/baton checkin`, *Log check-in*)"
    EDIT_CHECKIN = "Edit a check-in (the CSM: the one who logged it)"
    CLARIFY = "Answer an expectation mismatch (*Clarify*)"
    RATE_PACKET = "Rate the handoff packet on day 30"
    MILESTONE = (
        "Mark a milestone they own done, snooze it, ask for help; flag month-5 health; "
        "ask for more of a handover made to them (*Ask for more*)"
    )
    RECORD_OUTCOME = "Record a renewal or a churn; log the hand-back call"
    READ_ACCOUNT = "`/baton owner`, `/baton history` (ephemeral answers)"
    COVER_SELF = "Arrange cover for yourself (`/baton cover @you …`)"
    COVER_OTHER = "Arrange or end cover for someone else"
    ASSIGN = "Reassign an account's AE, CSM, AM or Ops (`/baton assign`)"
    REOPEN = "Give an account a new channel (`/baton reopen`)"
    STATUS = "See Baton's health (`/baton status`; manager: BATON_MANAGERS)"
    STATS = "See the team's numbers (`/baton stats`)"
    START_PILOT = "Start a retention-model pilot (`/baton pilot start`)"


R = Role
# The "AE" column of CREATE_ACCOUNT means an AE Baton already knows (the AE of some account)
# creating an account of their own; BATON_CREATORS, when set, names who may instead.
RULES: dict[Action, frozenset[Role]] = {
    Action.CREATE_ACCOUNT: frozenset({R.AE, R.MANAGER, R.ADMIN}),
    Action.CHANGE_ACCOUNT: frozenset({R.MANAGER, R.ADMIN}),
    Action.FILL_PACKET: frozenset({R.AE, R.MANAGER, R.BACKUP}),
    Action.ADD_MARKETING: frozenset(Role),
    Action.ACKNOWLEDGE_PACKET: frozenset({R.CSM, R.BACKUP}),
    Action.LOG_KICKOFF: frozenset({R.AE, R.CSM, R.MANAGER, R.BACKUP}),
    Action.LOG_CHECKIN: frozenset({R.CSM, R.MANAGER, R.BACKUP}),
    Action.EDIT_CHECKIN: frozenset({R.CSM, R.MANAGER}),
    Action.CLARIFY: frozenset({R.AE, R.MANAGER, R.BACKUP}),
    Action.RATE_PACKET: frozenset({R.CSM, R.BACKUP}),
    Action.MILESTONE: frozenset({R.AE, R.CSM, R.AM, R.OPS, R.MANAGER, R.BACKUP}),
    Action.RECORD_OUTCOME: frozenset({R.AE, R.CSM, R.AM, R.OPS, R.MANAGER, R.BACKUP}),
    Action.READ_ACCOUNT: frozenset(Role),
    Action.COVER_SELF: frozenset(Role),
    Action.COVER_OTHER: frozenset({R.MANAGER, R.ADMIN}),
    Action.ASSIGN: frozenset({R.MANAGER, R.ADMIN}),
    Action.REOPEN: frozenset({R.MANAGER, R.ADMIN}),
    Action.STATUS: frozenset({R.MANAGER, R.ADMIN}),
    Action.STATS: frozenset({R.MANAGER, R.ADMIN}),
    Action.START_PILOT: frozenset({R.MANAGER, R.ADMIN}),
}


def may(action: Action, roles: Iterable[Role]) -> bool:
    """Whether someone holding `roles` may take `action` (ANYONE: every member)."""
    allowed = RULES[action]
    return Role.ANYONE in allowed or any(role in allowed for role in roles)


def needs_admin_check(action: Action, roles: Iterable[Role]) -> bool:
    """Whether asking Slack if the person is an admin could change the answer."""
    return not may(action, roles) and Role.ADMIN in RULES[action]


def permission_table() -> str:
    """The README's permission table (Markdown), one row per action."""
    roles = list(Role)
    lines = [
        "| Action | " + " | ".join(role.value for role in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for action in Action:
        cells = ["✓" if may(action, [role]) else "·" for role in roles]
        lines.append(f"| {action.value} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
