"""What Slack's client shows, as terminal text: Block Kit and mrkdwn rendered for a person
reading `baton demo`, not for a parser.

*bold*, _italics_ and ~strike~ become ANSI styles (or plain text), `<url|label>` becomes
"label (url)", `<@U…>` and `<#C…>` become names, buttons `[ Label ]`; code spans are kept.
Pure: the names come in as tables, and any text (malformed mrkdwn, control characters,
lone surrogates, anything a person typed) renders without raising and prints safely.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO


@dataclass(frozen=True)
class Names:
    """Display names by Slack id: users' real names, channels' names."""

    users: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Style:
    """ANSI escapes for a terminal, or none (a pipe, a file, NO_COLOR)."""

    ansi: bool = False

    def wrap(self, text: str, on: str, off: str) -> str:
        return f"\x1b[{on}m{text}\x1b[{off}m" if self.ansi and text else text

    def bold(self, text: str) -> str:
        return self.wrap(text, "1", "22")

    def dim(self, text: str) -> str:
        return self.wrap(text, "2", "22")


PLAIN = Style()
NO_NAMES = Names()


def style_for(stream: TextIO, environ: Mapping[str, str] = os.environ) -> Style:
    """ANSI only on a terminal, and never when NO_COLOR is set (no-color.org) or TERM=dumb."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        tty = False
    wanted = tty and not environ.get("NO_COLOR") and environ.get("TERM") != "dumb"
    return Style(ansi=wanted)


# Markers for the styles while the text is parsed (private-use characters, never in the
# input: `_clean` replaces those), turned into ANSI escapes or dropped at the end.
_ON = {"*": "\ue001", "_": "\ue003", "~": "\ue005"}
_OFF = {"*": "\ue002", "_": "\ue004", "~": "\ue006"}
_ANSI = {
    "\ue001": "\x1b[1m",
    "\ue002": "\x1b[22m",
    "\ue003": "\x1b[3m",
    "\ue004": "\x1b[23m",
    "\ue005": "\x1b[9m",
    "\ue006": "\x1b[29m",
}
# Each token (code, link, mention) stands in the text as one character while emphasis is
# found, so a URL's underscores or a label's asterisks are never read as formatting.
_SLOT = 0xF0000
_MAX_SLOTS = 0xFFFD

_PRIVATE = re.compile("[\ue000-\ue0ff\U000f0000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
_CODE_BLOCK = re.compile(r"```(.*?)```", re.S)
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_TOKEN = re.compile(r"<([^<>\n]*)>")
_ENTITY = re.compile(r"&(lt|gt|amp);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&"}
_QUOTE = re.compile(r"^> ?", re.M)
# Slack's emphasis: the marker hugs its text (no space inside, no newline across) and
# stands apart from letters and digits outside (so snake_case and 2*3*4 stay as typed).
_EMPHASIS = {
    mark: re.compile(
        rf"(?<![^\W_]){re.escape(mark)}(?=[^\s{re.escape(mark)}])"
        rf"([^\n]*?[^\s{re.escape(mark)}]){re.escape(mark)}(?![^\W_])"
    )
    for mark in "*_~"
}
_BROADCAST = {"here": "@here", "channel": "@channel", "everyone": "@everyone"}


def _clean(text: str) -> str:
    """Printable and encodable: control characters as their visible pictures (␛ for ESC,
    so nothing typed can drive the terminal), lone surrogates and private-use characters
    as U+FFFD."""
    text = _SURROGATE.sub("\ufffd", text)
    text = _PRIVATE.sub("\ufffd", text)
    return _CONTROL.sub(_picture, text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    if code < 0x20:
        return chr(0x2400 + code)
    return "\u2421" if code == 0x7F else "\ufffd"


def _decode(text: str) -> str:
    """Slack's three entities, decoded once (`&amp;lt;` shows as `&lt;`)."""
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)


def _token(inner: str, names: Names) -> str | None:
    """A `<…>` token as the client shows it, or None to leave it as typed."""
    target, _, label = inner.partition("|")
    label = _decode(label)
    if target.startswith("@") and len(target) > 1:
        user = names.users.get(target[1:])
        return "@" + (user or label.lstrip("@") or target[1:])
    if target.startswith("#") and len(target) > 1:
        channel = names.channels.get(target[1:])
        return "#" + (channel or label.lstrip("#") or target[1:])
    if target.startswith("!"):
        command = target[1:]
        if command in _BROADCAST:
            return _BROADCAST[command]
        if command.startswith("subteam^"):
            return label or "@" + command.removeprefix("subteam^")
        return label or None  # <!date^…|fallback> shows its fallback
    if re.match(r"(?:https?|mailto|tel):", target, re.I):
        url, shown = _decode(target), label
        plain = url.partition(":")[2] if url.lower().startswith(("mailto:", "tel:")) else url
        if not shown or shown in (url, plain):
            return plain
        return f"{shown} ({url})"
    return None


def mrkdwn(text: Any, names: Names = NO_NAMES, style: Style = PLAIN) -> str:
    """Slack mrkdwn as a terminal shows it. Never raises; unmatched markers stay as typed."""
    text = _clean(text if isinstance(text, str) else str(text))
    slots: list[str] = []

    def keep(rendered: str) -> str:
        if len(slots) >= _MAX_SLOTS:
            return rendered  # absurdly many tokens: the rest are not protected, only shown
        slots.append(rendered)
        return chr(_SLOT + len(slots) - 1)

    text = _CODE_BLOCK.sub(lambda m: keep(_decode(m.group(1)).strip("\n")), text)
    text = _CODE_SPAN.sub(lambda m: keep("`" + _decode(m.group(1)) + "`"), text)

    def token(match: re.Match[str]) -> str:
        rendered = _token(match.group(1), names)
        return match.group(0) if rendered is None else keep(_clean(rendered))

    text = _TOKEN.sub(token, text)
    text = _QUOTE.sub("│ ", text)
    for mark, pattern in _EMPHASIS.items():
        text = pattern.sub(lambda m, mark=mark: _ON[mark] + m.group(1) + _OFF[mark], text)
    text = _decode(text)
    text = re.sub("[\U000f0000-\U000ffffd]", lambda m: slots[ord(m.group(0)) - _SLOT], text)
    return re.sub("[\ue001-\ue006]", lambda m: _ANSI[m.group(0)] if style.ansi else "", text)


def plain_text(text: Any) -> str:
    return _clean(text if isinstance(text, str) else str(text))


def text_object(obj: Any, names: Names = NO_NAMES, style: Style = PLAIN) -> str:
    """A Block Kit text object: mrkdwn rendered, plain_text as given."""
    if isinstance(obj, str):
        return mrkdwn(obj, names, style)
    if not isinstance(obj, dict):
        return ""
    value = obj.get("text", "")
    if obj.get("type") == "mrkdwn":
        return mrkdwn(value, names, style)
    return plain_text(value)


def _element(element: Any, names: Names, style: Style) -> str | None:
    """An interactive element as a terminal can hint at it: `[ Label ]`."""
    if not isinstance(element, dict):
        return None
    kind = element.get("type")
    if kind == "button":
        return style.bold(f"[ {text_object(element.get('text'), names, style)} ]")
    if kind == "overflow":
        return "[ … ]"
    placeholder = element.get("placeholder")
    if placeholder is not None or str(kind).endswith(("select", "picker")):
        return f"[ {text_object(placeholder, names, style) or kind} ▾ ]"
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def blocks(value: Any, fallback: Any = "", names: Names = NO_NAMES, style: Style = PLAIN) -> str:
    """Blocks as lines of terminal text; without blocks, the message's text (mrkdwn).
    Malformed blocks show what can be read of them and never raise."""
    if not isinstance(value, list) or not value:
        return mrkdwn(fallback or "", names, style)
    lines: list[str] = []
    fields: list[str] = []
    for block in value:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "input":
            fields.append(text_object(block.get("label"), names, style))
            continue
        if fields:
            lines.append("Fields: " + " · ".join(fields))
            fields = []
        if kind == "header":
            lines.append(style.bold(f"== {text_object(block.get('text'), names, style)} =="))
        elif kind == "section":
            if block.get("text"):
                lines.append(text_object(block.get("text"), names, style))
            lines.extend(text_object(f, names, style) for f in _list(block.get("fields")))
            accessory = _element(block.get("accessory"), names, style)
            if accessory:
                lines.append(accessory)
        elif kind == "context":
            parts = [
                text_object(e, names, style)
                for e in _list(block.get("elements"))
                if isinstance(e, dict) and "text" in e
            ]
            lines.append(" ".join(parts))
        elif kind == "actions":
            shown = [_element(e, names, style) for e in _list(block.get("elements"))]
            lines.append(" ".join(s for s in shown if s))
        elif kind == "divider":
            lines.append("---")
    if fields:
        lines.append("Fields: " + " · ".join(fields))
    return "\n".join(lines)
