"""Every Web API method Baton calls, and the bot scope it relies on for it.

Tests prove that the code calls no method missing here and that manifest.yml grants
every scope listed. Methods that need no scope map to an empty tuple.
"""

from __future__ import annotations

from pathlib import Path

import yaml

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "conversations.create": ("channels:manage", "groups:write"),
    "conversations.invite": ("channels:manage", "groups:write"),
    "conversations.inviteShared": ("conversations.connect:write",),
    "conversations.setTopic": ("channels:manage", "groups:write"),
    "conversations.info": ("channels:read", "groups:read", "im:read"),
    "conversations.members": ("channels:read", "groups:read"),
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    "conversations.replies": ("channels:history", "groups:history", "im:history"),
    "conversations.open": ("im:write",),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.getPermalink": (),
    "views.open": (),
    "views.update": (),
    "views.push": (),
    "views.publish": (),
    "bookmarks.add": ("bookmarks:write",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
}
# Needed for features rather than methods: the slash command and user_change events.
FEATURE_SCOPES = ("commands", "users:read")


def manifest_bot_scopes(path: Path = MANIFEST) -> set[str]:
    manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    return set(manifest["oauth_config"]["scopes"]["bot"])


def granted_scopes() -> set[str]:
    """The scopes an installation from our manifest grants (the sandbox grants these)."""
    if MANIFEST.exists():
        return manifest_bot_scopes()
    return {scope for scopes in METHOD_SCOPES.values() for scope in scopes} | set(FEATURE_SCOPES)
