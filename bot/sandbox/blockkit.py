"""Block Kit as Slack's reference defines it, checked at every level of nesting.

`slack_sdk.models` checks the top of each block; Slack checks everything: every text
object's type and length, every element's fields, option counts, initial options that
must be among the options, unique block and action ids, and no unknown keys anywhere.
Each problem is a sentence with a JSON pointer, as Slack words its `invalid_blocks` errors.

Limits follow docs.slack.dev/reference/block-kit (blocks, block elements, composition
objects) and docs.slack.dev/reference/views. The sandbox may be stricter than Slack,
never more lenient: block and element types it does not model are refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Problems = list[str]
Check = Callable[[Any, str], Problems]

ID_MAX = 255
URL_MAX = 3000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _at(pointer: str, message: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


# --- leaf checks -----------------------------------------------------------------------
def string(max_len: int, min_len: int = 1) -> Check:
    def check(value: Any, pointer: str) -> Problems:
        if not isinstance(value, str):
            return [_at(pointer, "must be a string")]
        if len(value) < min_len:
            return [_at(pointer, f"must be at least {min_len} characters")]
        if len(value) > max_len:
            return [_at(pointer, f"must be less than {max_len + 1} characters")]
        return []

    return check


def boolean(value: Any, pointer: str) -> Problems:
    return [] if isinstance(value, bool) else [_at(pointer, "must be a boolean")]


def integer(low: int, high: int) -> Check:
    def check(value: Any, pointer: str) -> Problems:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            return [_at(pointer, f"must be an integer from {low} to {high}")]
        return []

    return check


def one_of(*choices: str) -> Check:
    def check(value: Any, pointer: str) -> Problems:
        if value not in choices:
            return [_at(pointer, f"must be one of: {', '.join(choices)}")]
        return []

    return check


def pattern(regex: re.Pattern[str], what: str) -> Check:
    def check(value: Any, pointer: str) -> Problems:
        if not isinstance(value, str) or not regex.match(value):
            return [_at(pointer, f"must be {what}")]
        return []

    return check


def text(max_len: int, *, plain_only: bool = False) -> Check:
    """A text object: plain_text (with `emoji`) or, where allowed, mrkdwn (with `verbatim`)."""

    def check(value: Any, pointer: str) -> Problems:
        if not isinstance(value, dict):
            return [_at(pointer, "must be a text object")]
        kind = value.get("type")
        if kind == "plain_text":
            fields = {"text": string(max_len), "emoji": boolean}
        elif kind == "mrkdwn" and not plain_only:
            fields = {"text": string(max_len), "verbatim": boolean}
        elif kind == "mrkdwn":
            return [_at(pointer + "/type", "must be plain_text")]
        else:
            return [_at(pointer + "/type", "must be plain_text or mrkdwn")]
        return obj(fields, required=("text",))(value, pointer)

    return check


def plain(max_len: int) -> Check:
    return text(max_len, plain_only=True)


def array(item: Check, max_items: int, min_items: int = 1) -> Check:
    def check(value: Any, pointer: str) -> Problems:
        if not isinstance(value, list):
            return [_at(pointer, "must be an array")]
        if len(value) < min_items:
            return [_at(pointer, f"must provide an array of at least {min_items} items")]
        if len(value) > max_items:
            return [_at(pointer, f"must provide an array of no more than {max_items} items")]
        return [p for index, entry in enumerate(value) for p in item(entry, f"{pointer}/{index}")]

    return check


def obj(fields: dict[str, Check], required: tuple[str, ...] = ()) -> Check:
    """An object with exactly these optional fields (plus `type`), some required."""

    def check(value: Any, pointer: str) -> Problems:
        if not isinstance(value, dict):
            return [_at(pointer, "must be an object")]
        problems = [
            _at(f"{pointer}/{name}", "is required") for name in required if name not in value
        ]
        for name, entry in value.items():
            if name == "type":
                continue
            if name not in fields:
                problems.append(_at(f"{pointer}/{name}", "unknown field"))
            else:
                problems += fields[name](entry, f"{pointer}/{name}")
        return problems

    return check


# --- composition objects -----------------------------------------------------------------
CONFIRM = obj(
    {
        "title": plain(100),
        "text": plain(300),
        "confirm": plain(30),
        "deny": plain(30),
        "style": one_of("primary", "danger"),
    },
    required=("title", "text", "confirm", "deny"),
)


def option(*, mrkdwn: bool = False, url: bool = False) -> Check:
    """Select, multi-select and overflow options are plain_text; checkboxes and radio
    buttons may use mrkdwn; only overflow options may carry a url."""
    fields: dict[str, Check] = {
        "text": text(75, plain_only=not mrkdwn),
        "value": string(150),
        "description": text(75, plain_only=not mrkdwn),
    }
    if url:
        fields["url"] = string(URL_MAX)
    return obj(fields, required=("text", "value"))


# --- elements --------------------------------------------------------------------------
_COMMON = {"action_id": string(ID_MAX), "confirm": CONFIRM, "focus_on_load": boolean}
_PLACEHOLDER = {"placeholder": plain(150)}


def _options_element(
    options: Check, *, multi: bool, initial: str, groups: bool = False, **extra: Check
) -> Check:
    fields: dict[str, Check] = {**_COMMON, "options": options, initial: _anything, **extra}
    if groups:
        fields["option_groups"] = array(
            obj({"label": plain(75), "options": array(option(), 100)}, ("label", "options")),
            100,
        )
    if multi:
        fields["max_selected_items"] = integer(1, 100)
    shape = obj(fields)

    def check(value: Any, pointer: str) -> Problems:
        problems = shape(value, pointer)
        if problems:
            return problems
        if groups and ("options" in value) == ("option_groups" in value):
            return [_at(pointer, "must provide exactly one of options or option_groups")]
        if not groups and "options" not in value:
            return [_at(pointer + "/options", "is required")]
        return _initial_among(value, initial, multi, pointer)

    return check


def _anything(value: Any, pointer: str) -> Problems:
    return []


def _initial_among(element: dict[str, Any], key: str, multi: bool, pointer: str) -> Problems:
    """`initial_option(s)` must exactly match options of the element."""
    if key not in element:
        return []
    offered = list(element.get("options", []))
    for group in element.get("option_groups", []):
        offered += group.get("options", [])
    chosen = element[key]
    if multi and not isinstance(chosen, list):
        return [_at(f"{pointer}/{key}", "must be an array")]
    for index, entry in enumerate(chosen if multi else [chosen]):
        if entry not in offered:
            where = f"{pointer}/{key}/{index}" if multi else f"{pointer}/{key}"
            return [_at(where, "must exactly match one of the provided options")]
    return []


_DISPATCH = {
    "dispatch_action_config": obj(
        {"trigger_actions_on": array(one_of("on_enter_pressed", "on_character_entered"), 2)}
    )
}
_TYPED_INPUT = {**_COMMON, **_PLACEHOLDER, **_DISPATCH, "initial_value": string(3000, 0)}


def _text_input(value: Any, pointer: str) -> Problems:
    problems = obj(
        {
            **_TYPED_INPUT,
            "multiline": boolean,
            "min_length": integer(0, 3000),
            "max_length": integer(1, 3000),
        }
    )(value, pointer)
    if problems:
        return problems
    low, high = value.get("min_length", 0), value.get("max_length", 3000)
    if low > high:
        return [_at(pointer + "/min_length", "must not be more than max_length")]
    initial = value.get("initial_value", "")
    if len(initial) > high:
        return [_at(pointer + "/initial_value", f"must be less than {high + 1} characters")]
    return []


_IMAGE_FIELDS = {
    "image_url": string(URL_MAX),
    "slack_file": obj({"url": string(URL_MAX), "id": string(ID_MAX)}),
    "alt_text": string(2000),
}


def _image_of(fields: dict[str, Check]) -> Check:
    shape = obj(fields, required=("alt_text",))

    def check(value: Any, pointer: str) -> Problems:
        problems = shape(value, pointer)
        if not problems and ("image_url" in value) == ("slack_file" in value):
            problems.append(_at(pointer, "must provide exactly one of image_url or slack_file"))
        return problems

    return check


_image = _image_of(_IMAGE_FIELDS)


ELEMENTS: dict[str, Check] = {
    "button": obj(
        {
            "text": plain(75),
            "action_id": string(ID_MAX),
            "url": string(URL_MAX),
            "value": string(2000),
            "style": one_of("primary", "danger"),
            "confirm": CONFIRM,
            "accessibility_label": string(75),
        },
        required=("text",),
    ),
    "static_select": _options_element(
        array(option(), 100), multi=False, initial="initial_option", groups=True, **_PLACEHOLDER
    ),
    "multi_static_select": _options_element(
        array(option(), 100), multi=True, initial="initial_options", groups=True, **_PLACEHOLDER
    ),
    "checkboxes": _options_element(
        array(option(mrkdwn=True), 10), multi=True, initial="initial_options"
    ),
    "radio_buttons": _options_element(
        array(option(mrkdwn=True), 10), multi=False, initial="initial_option"
    ),
    "overflow": obj(
        {"action_id": string(ID_MAX), "confirm": CONFIRM, "options": array(option(url=True), 5, 2)},
        required=("options",),
    ),
    "users_select": obj({**_COMMON, **_PLACEHOLDER, "initial_user": string(ID_MAX)}),
    "multi_users_select": obj(
        {
            **_COMMON,
            **_PLACEHOLDER,
            "initial_users": array(string(ID_MAX), 100, 0),
            "max_selected_items": integer(1, 100),
        }
    ),
    "datepicker": obj(
        {**_COMMON, **_PLACEHOLDER, "initial_date": pattern(_DATE, "a date as YYYY-MM-DD")}
    ),
    "timepicker": obj(
        {
            **_COMMON,
            **_PLACEHOLDER,
            "initial_time": pattern(_TIME, "a time as HH:mm"),
            "timezone": string(64),
        }
    ),
    "plain_text_input": _text_input,
    "number_input": obj(
        {
            **_TYPED_INPUT,
            "is_decimal_allowed": boolean,
            "min_value": string(64),
            "max_value": string(64),
        },
        required=("is_decimal_allowed",),
    ),
    "email_text_input": obj(_TYPED_INPUT),
    "url_text_input": obj(_TYPED_INPUT),
    "image": _image,
}
_SELECTS = ("static_select", "multi_static_select", "users_select", "multi_users_select")
ACCESSORY = ("button", "overflow", "datepicker", "timepicker", "checkboxes", "radio_buttons")
ACCESSORY += (*_SELECTS, "image")
IN_ACTIONS = ("button", "overflow", "datepicker", "timepicker", "checkboxes", "radio_buttons")
IN_ACTIONS += _SELECTS
IN_INPUT = ("plain_text_input", "number_input", "email_text_input", "url_text_input")
IN_INPUT += ("datepicker", "timepicker", "checkboxes", "radio_buttons", *_SELECTS)


def element(allowed: tuple[str, ...]) -> Check:
    def check(value: Any, pointer: str) -> Problems:
        if not isinstance(value, dict):
            return [_at(pointer, "must be an object")]
        kind = value.get("type")
        if kind not in allowed:
            return [_at(pointer + "/type", f"must be one of: {', '.join(allowed)}")]
        return ELEMENTS[kind](value, pointer)

    return check


def _context_element(value: Any, pointer: str) -> Problems:
    if isinstance(value, dict) and value.get("type") == "image":
        return _image(value, pointer)
    return text(3000)(value, pointer)


# --- blocks ----------------------------------------------------------------------------
_BLOCK_ID = {"block_id": string(ID_MAX)}


def _section(value: Any, pointer: str) -> Problems:
    problems = obj(
        {
            **_BLOCK_ID,
            "text": text(3000),
            "fields": array(text(2000), 10),
            "accessory": element(ACCESSORY),
            "expand": boolean,
        }
    )(value, pointer)
    if not problems and "text" not in value and "fields" not in value:
        problems.append(_at(pointer, "must provide text or fields"))
    return problems


BLOCKS: dict[str, Check] = {
    "section": _section,
    "header": obj({**_BLOCK_ID, "text": plain(150)}, required=("text",)),
    "divider": obj(_BLOCK_ID),
    "context": obj({**_BLOCK_ID, "elements": array(_context_element, 10)}, ("elements",)),
    "actions": obj({**_BLOCK_ID, "elements": array(element(IN_ACTIONS), 25)}, ("elements",)),
    "input": obj(
        {
            **_BLOCK_ID,
            "label": plain(2000),
            "element": element(IN_INPUT),
            "dispatch_action": boolean,
            "hint": plain(2000),
            "optional": boolean,
        },
        required=("label", "element"),
    ),
    "image": _image_of({**_BLOCK_ID, **_IMAGE_FIELDS, "title": plain(2000)}),
}


def block_problems(blocks: list[Any], pointer: str) -> Problems:
    """Every problem in a list of blocks (its length is checked by the caller)."""
    problems: Problems = []
    seen_blocks: set[str] = set()
    for index, block in enumerate(blocks):
        here = f"{pointer}/{index}"
        if not isinstance(block, dict):
            problems.append(_at(here, "must be an object"))
            continue
        kind = block.get("type")
        if kind not in BLOCKS:
            problems.append(_at(here + "/type", f"unsupported block type: {kind!r}"))
            continue
        problems += BLOCKS[kind](block, here)
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in seen_blocks:
                problems.append(_at(here + "/block_id", "must be unique within the blocks"))
            seen_blocks.add(block_id)
        problems += _unique_action_ids(block, here)
    return problems


def _unique_action_ids(block: dict[str, Any], pointer: str) -> Problems:
    elements = block.get("elements") if block.get("type") == "actions" else None
    if not isinstance(elements, list):
        return []
    seen: set[str] = set()
    for index, entry in enumerate(elements):
        action_id = entry.get("action_id") if isinstance(entry, dict) else None
        if isinstance(action_id, str):
            if action_id in seen:
                where = f"{pointer}/elements/{index}/action_id"
                return [_at(where, "must be unique within the block")]
            seen.add(action_id)
    return []


def input_block_ids(view: dict[str, Any]) -> set[str]:
    return {
        block["block_id"]
        for block in view.get("blocks") or []
        if isinstance(block, dict) and block.get("type") == "input" and "block_id" in block
    }


# --- views -----------------------------------------------------------------------------
_VIEW_COMMON: dict[str, Check] = {
    "blocks": _anything,  # checked by block_problems, with the view's own limit
    "private_metadata": string(3000, 0),
    "callback_id": string(ID_MAX, 0),
    "external_id": string(ID_MAX, 0),
}
VIEWS: dict[str, Check] = {
    "modal": obj(
        {
            **_VIEW_COMMON,
            "title": plain(24),
            "close": plain(24),
            "submit": plain(24),
            "clear_on_close": boolean,
            "notify_on_close": boolean,
            "submit_disabled": boolean,
        },
        required=("title", "blocks"),
    ),
    "home": obj(_VIEW_COMMON, required=("blocks",)),
}


def view_problems(view: dict[str, Any], blocks_max: int) -> Problems:
    """Every problem in a view object, pointers under /view."""
    problems = VIEWS[view["type"]](view, "/view")
    blocks = view.get("blocks")
    if not isinstance(blocks, list):
        return problems or [_at("/view/blocks", "must be an array")]
    if len(blocks) > blocks_max:
        problems.append(
            _at("/view/blocks", f"must provide an array of no more than {blocks_max} items")
        )
    problems += block_problems(blocks, "/view/blocks")
    has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
    if view["type"] == "modal" and has_input and "submit" not in view:
        problems.append(_at("/view/submit", "is required when the view has input blocks"))
    return problems
