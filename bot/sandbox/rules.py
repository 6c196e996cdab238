"""Slack's rules as the sandbox enforces them: names, Block Kit limits, scopes, rate tiers.

Facts here follow Slack's API reference. When the sandbox and the docs disagree, the docs
win: fix this file.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.sandbox.blockkit import block_problems, input_block_ids, view_problems


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
    """A message's blocks, checked at every level (chat.* methods' `invalid_blocks`)."""
    blocks = decode_json_arg(blocks, "blocks")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    if len(blocks) > limit:
        raise SlackError(
            "invalid_blocks", errors=[f"must provide an array of no more than {limit} items"]
        )
    errors = block_problems(blocks, "/blocks")
    if errors:
        raise SlackError("invalid_blocks", errors=errors)
    return blocks


def check_view(view: Any) -> dict[str, Any]:
    """A view, checked at every level. views.* answer `invalid_arguments` with messages
    (their documented errors have no `invalid_blocks`)."""
    view = decode_json_arg(view, "view")
    if not isinstance(view, dict) or view.get("type") not in VIEW_TYPES:
        raise _view_error(["view type must be one of: modal, home [json-pointer:/view/type]"])
    problems = view_problems(view, VIEW_BLOCKS_MAX)
    if problems:
        raise _view_error(problems)
    if len(json.dumps(view)) > 250_000:
        raise SlackError("view_too_large")
    return view


def _view_error(problems: list[str]) -> SlackError:
    return SlackError(
        "invalid_arguments", response_metadata={"messages": [f"[ERROR] {p}" for p in problems]}
    )


# --- answers Slack reads from the app (slash-command replies, response_url, view acks) --
REPLY_FIELDS = {
    "text",
    "blocks",
    "response_type",
    "replace_original",
    "delete_original",
    "thread_ts",
    "mrkdwn",
    "unfurl_links",
    "unfurl_media",
    "attachments",
    "metadata",
}


def reply_problems(body: Any) -> list[str]:
    """What is wrong with a message posted as a slash command's reply or to a response_url."""
    if not isinstance(body, dict):
        return ["the reply must be a JSON object"]
    unknown = sorted(set(body) - REPLY_FIELDS)
    if unknown:
        return [f"unknown fields: {', '.join(unknown)}"]
    if body.get("response_type", "ephemeral") not in ("ephemeral", "in_channel"):
        return ["response_type must be ephemeral or in_channel"]
    text = body.get("text")
    if text is not None and not isinstance(text, str):
        return ["text must be a string"]
    if len(text or "") > MESSAGE_TEXT_MAX:
        return ["msg_too_long"]
    if body.get("delete_original"):
        return []
    if not text and not body.get("blocks"):
        return ["no_text"]
    try:
        if body.get("blocks"):
            check_blocks(body["blocks"])
    except SlackError as exc:
        return [exc.code, *exc.extra.get("errors", [])]
    return []


def view_answer_problems(body: Any, view: dict[str, Any]) -> list[str]:
    """What is wrong with an app's answer to a view_submission (Slack's response_action)."""
    if body is None:
        return []
    if not isinstance(body, dict):
        return ["the answer must be a JSON object"]
    action = body.get("response_action")
    allowed = {"errors": {"errors"}, "update": {"view"}, "push": {"view"}, "clear": set()}
    if action not in allowed:
        return [f"response_action must be one of: {', '.join(allowed)}"]
    unknown = sorted(set(body) - {"response_action"} - allowed[action])
    if unknown:
        return [f"unknown fields: {', '.join(unknown)}"]
    if action == "errors":
        return _errors_problems(body.get("errors"), input_block_ids(view))
    if action in ("update", "push"):
        try:
            check_view(body.get("view"))
        except SlackError as exc:
            return [exc.code, *exc.extra.get("response_metadata", {}).get("messages", [])]
    return []


def _errors_problems(errors: Any, inputs: set[str]) -> list[str]:
    if not isinstance(errors, dict) or not errors:
        return ["errors must be a non-empty object of block_id to message"]
    problems = [
        f"errors: {key!r} is not the block_id of an input block in this view"
        for key in errors
        if key not in inputs
    ]
    problems += [
        f"errors: the message for {key!r} must be a non-empty string"
        for key, message in errors.items()
        if not isinstance(message, str) or not message.strip()
    ]
    return problems


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
# Slack's workspace-wide posting limit is not published; the sandbox applies this one
# (BATON_SLACK_POSTS_PER_MINUTE defaults to it) unless a test sets its own.
POSTS_PER_MINUTE = 600
