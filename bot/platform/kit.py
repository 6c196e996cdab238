"""Small Block Kit builders that keep every text inside Slack's limits, and the escaping
that keeps what people and the CRM wrote from being read as Slack markup."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from bot.platform.http_input import BadRequest, json_value
from flows.ownership_args import BARE_USER_ID

Block = dict[str, Any]
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
CONTEXT_TEXT_MAX = 2000
BUTTON_TEXT_MAX = 75
TITLE_MAX = 24
FIELD_ACTION = "value"  # every input's action_id: a block is known by its block_id


_ENTITIES = ("&amp;", "&lt;", "&gt;")
CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,}")
_SLACK_TOKEN = re.compile(r"(<[^<>]*>)")
_LINKABLE = re.compile(r"https?://[^\s<>|]+")


def esc(value: object) -> str:
    """`value` as literal mrkdwn text: Slack's three control characters as entities, nothing
    else touched. For anything Baton did not write itself (names, emails, what people typed)
    going into mrkdwn or a message's `text`; never into plain_text, which Slack shows as is."""
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unesc(text: str) -> str:
    """The inverse of `esc` (`&amp;` last, so `&amp;lt;` stays the text `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def slash_text(raw: str) -> str:
    """A slash command's text as the person typed it. With should_escape Slack sends typed
    `&`, `<`, `>` as entities and its own `<@U…|name>` / `<#C…|name>` tokens raw: the tokens
    are kept for the parsers, everything between them is unescaped."""
    parts = _SLACK_TOKEN.split(raw)
    return "".join(part if i % 2 else unesc(part) for i, part in enumerate(parts))


def user_mention(user_id: str) -> str:
    """`<@U…>` for a real user id; anything else is shown as the text it is."""
    return f"<@{user_id}>" if BARE_USER_ID.fullmatch(user_id) else esc(user_id)


def channel_mention(channel_id: str) -> str:
    return f"<#{channel_id}>" if CHANNEL_ID.fullmatch(channel_id) else esc(channel_id)


def link(url: str, label: str) -> str:
    """`<url|label>` for a plain http(s) address; any other value is not made a link."""
    if _LINKABLE.fullmatch(url) and urlsplit(url).netloc:
        return f"<{esc(url)}|{esc(label)}>"
    return f"{esc(label)} ({esc(url)})"


def clip(text: str, limit: int) -> str:
    """At most `limit` characters, never cutting an entity (`&amp;`) in half."""
    if len(text) <= limit:
        return text
    kept = text[: limit - 1]
    cut = kept.rfind("&", -4)
    if cut >= 0 and any(e.startswith(kept[cut:]) and e != kept[cut:] for e in _ENTITIES):
        kept = kept[:cut]
    return kept + "…"


def plain(text: str, limit: int = SECTION_TEXT_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text, HEADER_TEXT_MAX)}


def section(text: str, accessory: dict[str, Any] | None = None) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(text, SECTION_TEXT_MAX)},
    }
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> Block:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(text, CONTEXT_TEXT_MAX)}],
    }


def divider() -> Block:
    return {"type": "divider"}


def button(
    text: str, action_id: str, value: str | None = None, style: str | None = None
) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "text": plain(text, BUTTON_TEXT_MAX),
        "action_id": action_id,
    }
    if value is not None:
        element["value"] = value
    if style:
        element["style"] = style
    return element


def actions(*elements: dict[str, Any], block_id: str = "actions") -> Block:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def text_input(
    value: Any = None, *, multiline: bool = True, limit: int | None = 3000
) -> dict[str, Any]:
    """A plain-text input element, prefilled with `value` when there is one."""
    element: dict[str, Any] = {"type": "plain_text_input", "multiline": multiline}
    if limit is not None:
        element["max_length"] = limit
    if value:
        element["initial_value"] = clip(str(value), limit) if limit else str(value)
    return element


def input_block(
    block_id: str, label: str, element: dict[str, Any], *, optional: bool = False, hint: str = ""
) -> Block:
    """An input block; the element gets the shared action_id."""
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, 2000),
        "element": {**element, "action_id": FIELD_ACTION},
    }
    if optional:
        block["optional"] = True
    if hint:
        block["hint"] = plain(hint, 2000)
    return block


def element_state(values: Any, block_id: str) -> dict[str, Any]:
    """One input's element in a modal's `state.values`, as Slack sends it ({} for nothing,
    or for anything shaped otherwise)."""
    block = values.get(block_id) if isinstance(values, dict) else None
    element = block.get(FIELD_ACTION) if isinstance(block, dict) else None
    return element if isinstance(element, dict) else {}


def chosen(element: dict[str, Any]) -> str | None:
    """The value of a select's or radio group's selected option."""
    option = element.get("selected_option")
    value = option.get("value") if isinstance(option, dict) else None
    return value if isinstance(value, str) else None


def ticked(element: dict[str, Any]) -> bool:
    """Whether any checkbox is ticked."""
    options = element.get("selected_options")
    return isinstance(options, list) and bool(options)


def submitted(view: dict[str, Any], block_id: str, key: str = "value") -> Any:
    """What was submitted in one input of a modal (None if nothing)."""
    state = view.get("state") if isinstance(view, dict) else None
    values = state.get("values") if isinstance(state, dict) else None
    return element_state(values, block_id).get(key)


def metadata(view: dict[str, Any]) -> dict[str, Any]:
    """A modal's private_metadata as the object Baton wrote there; {} for anything else
    (not JSON, nested too deep, or JSON that is not an object)."""
    try:
        value = json_value(view.get("private_metadata") or "{}")
    except BadRequest:
        return {}
    return value if isinstance(value, dict) else {}


def modal(
    title: str,
    blocks: list[Block],
    *,
    callback_id: str | None = None,
    submit: str | None = None,
    close: str = "Close",
    private_metadata: str = "",
) -> dict[str, Any]:
    view: dict[str, Any] = {
        "type": "modal",
        "title": plain(title, TITLE_MAX),
        "close": plain(close, TITLE_MAX),
        "blocks": blocks,
    }
    if callback_id:
        view["callback_id"] = callback_id
    if submit:
        view["submit"] = plain(submit, TITLE_MAX)
    if private_metadata:
        view["private_metadata"] = private_metadata
    return view
