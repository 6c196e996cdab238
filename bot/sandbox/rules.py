"""Slack's rules as the sandbox enforces them: names, Block Kit limits, scopes, rate tiers.

Facts here follow Slack's API reference. When the sandbox and the docs disagree, the docs
win: fix this file.
"""

from __future__ import annotations

import json
import re
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View


class SlackError(Exception):
    """A Web API error: `{"ok": false, "error": code}` plus optional extra fields."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


# --- channel names ---------------------------------------------------------------------
CHANNEL_NAME_MAX = 80
_NAME_ALLOWED = re.compile(r"^[a-z0-9_\-\u00c0-\uffff]+$")


def check_channel_name(name: str) -> None:
    """Lowercase, no spaces or periods, at most 80 characters (Slack's error codes)."""
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > CHANNEL_NAME_MAX:
        raise SlackError("invalid_name_maxlength")
    if not _NAME_ALLOWED.match(name) or name != name.lower():
        raise SlackError("invalid_name_specials")
    if all(ch in "-_" for ch in name):
        raise SlackError("invalid_name_punctuation")


# --- Block Kit -------------------------------------------------------------------------
MESSAGE_BLOCKS_MAX = 50
VIEW_BLOCKS_MAX = 100
MESSAGE_TEXT_MAX = 40_000
VIEW_TYPES = {"modal", "home"}


def decode_json_arg(value: Any, name: str) -> Any:
    """Form-encoded calls carry JSON as a string; JSON calls carry it as is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] failed to parse `{name}` as JSON"]},
            ) from None
    return value


def check_blocks(blocks: Any, limit: int = MESSAGE_BLOCKS_MAX) -> list[dict[str, Any]]:
    blocks = decode_json_arg(blocks, "blocks")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if len(blocks) > limit:
        raise SlackError(
            "invalid_blocks", errors=[f"must provide an array of no more than {limit} items"]
        )
    errors = [
        f"{problem} [json-pointer:/blocks/{index}]"
        for index, block in enumerate(blocks)
        if (problem := _block_problem(block))
    ]
    if errors:
        raise SlackError("invalid_blocks", errors=errors)
    return blocks


def _block_problem(block: Any) -> str | None:
    if not isinstance(block, dict):
        return "must be an object"
    parsed = Block.parse(block)
    if parsed is None:
        return f"unsupported block type: {block.get('type')!r}"
    unknown = set(block) - set(parsed.attributes) - {"type", "block_id"}
    if unknown:
        return f"unknown fields: {', '.join(sorted(unknown))}"
    try:
        parsed.validate_json()
    except SlackObjectFormationError as exc:
        return str(exc)
    return None


def check_view(view: Any) -> dict[str, Any]:
    view = decode_json_arg(view, "view")
    if not isinstance(view, dict) or view.get("type") not in VIEW_TYPES:
        raise SlackError(
            "invalid_arguments",
            response_metadata={
                "messages": [
                    "[ERROR] view type must be one of: modal, home [json-pointer:/view/type]"
                ]
            },
        )
    blocks = view.get("blocks") or []
    check_blocks(blocks, VIEW_BLOCKS_MAX)
    if view["type"] == "modal" and "title" not in view:
        raise _view_error("missing required field: title [json-pointer:/view/title]")
    if len(json.dumps(view)) > 250_000:
        raise SlackError("view_too_large")
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError) as exc:
        raise _view_error(str(exc)) from None
    return view


def _view_error(message: str) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})


# --- scopes (Slack's truth, kept apart from the product's own table on purpose) ---------
def required_scopes(method: str, args: dict[str, Any], channel_kind: str | None) -> set[str]:
    """The bot scopes of which at least one must be granted for this call."""
    kind = channel_kind or "public"
    by_kind = {
        "conversations.create": {"public": "channels:manage", "private": "groups:write"},
        "conversations.invite": {"public": "channels:manage", "private": "groups:write"},
        "conversations.setTopic": {
            "public": "channels:manage",
            "private": "groups:write",
            "im": "im:write",
        },
        "conversations.info": {
            "public": "channels:read",
            "private": "groups:read",
            "im": "im:read",
        },
        "conversations.members": {
            "public": "channels:read",
            "private": "groups:read",
            "im": "im:read",
        },
        "conversations.history": {
            "public": "channels:history",
            "private": "groups:history",
            "im": "im:history",
        },
        "conversations.replies": {
            "public": "channels:history",
            "private": "groups:history",
            "im": "im:history",
        },
    }
    if method == "conversations.create":
        kind = "private" if _truthy(args.get("is_private")) else "public"
    if method in by_kind:
        return {by_kind[method].get(kind, by_kind[method]["public"])}
    return set(_FLAT_SCOPES.get(method, ()))


_FLAT_SCOPES: dict[str, tuple[str, ...]] = {
    "users.info": ("users:read",),
    "users.lookupByEmail": ("users:read.email",),
    "conversations.open": ("im:write",),
    "conversations.inviteShared": ("conversations.connect:write",),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "bookmarks.add": ("bookmarks:write",),
    "usergroups.list": ("usergroups:read",),
    "usergroups.users.list": ("usergroups:read",),
}


def _truthy(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


# --- rate limits -----------------------------------------------------------------------
# Requests per minute per method and workspace (Slack's tiers 1-4); chat.postMessage is
# "special": about one message per second per channel, short bursts allowed.
TIER_PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
METHOD_TIER = {
    "auth.test": 4,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "conversations.create": 2,
    "conversations.invite": 3,
    "conversations.inviteShared": 2,
    "conversations.setTopic": 2,
    "conversations.info": 3,
    "conversations.members": 4,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.open": 3,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "chat.getPermalink": 4,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
    "bookmarks.add": 2,
    "usergroups.list": 2,
    "usergroups.users.list": 2,
}
POST_MESSAGE_PER_SECOND = 1.0
POST_MESSAGE_BURST = 6
