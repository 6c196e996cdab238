"""What people saw in the sandbox since the last look, rendered for a terminal."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.sandbox.state import SandboxWorkspace


@dataclass(frozen=True)
class Seen:
    at: datetime
    user_ids: tuple[str, ...]
    where: str
    text: str


def shown(text: dict[str, Any]) -> str:
    """A text object as Slack's client shows it: mrkdwn's `&amp;`, `&lt;`, `&gt;` decoded."""
    value = str(text.get("text", ""))
    if text.get("type") != "mrkdwn":
        return value
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def render_blocks(blocks: list[dict[str, Any]] | None, fallback: str = "") -> str:
    """Blocks as lines of text; without blocks, the message's text (mrkdwn)."""
    if not blocks:
        return shown({"type": "mrkdwn", "text": fallback})
    lines: list[str] = []
    fields: list[str] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "input":
            fields.append(block["label"]["text"])
            continue
        if fields:
            lines.append("Fields: " + " · ".join(fields))
            fields = []
        if kind == "header":
            lines.append(f"== {block['text']['text']} ==")
        elif kind == "section":
            if block.get("text"):
                lines.append(shown(block["text"]))
            lines.extend(shown(f) for f in block.get("fields", []))
            accessory = block.get("accessory") or {}
            if accessory.get("type") == "button":
                lines.append(f"[{accessory['text']['text']}]")
        elif kind == "context":
            lines.append(" ".join(shown(e) for e in block["elements"] if "text" in e))
        elif kind == "actions":
            lines.append(
                " ".join(
                    f"[{e['text']['text']}]" for e in block["elements"] if e.get("type") == "button"
                )
            )
        elif kind == "divider":
            lines.append("---")
    if fields:
        lines.append("Fields: " + " · ".join(fields))
    return "\n".join(lines)


_MENTION = re.compile(r"<([@#])([A-Z0-9]+)(?:\|[^>]*)?>")


def humanize(text: str, workspace: SandboxWorkspace) -> str:
    """Mentions as Slack's client shows them: <@U1> → @Ana Ruiz, <#C1> → #acct-acme."""

    def name(match: re.Match[str]) -> str:
        sigil, key = match.groups()
        if sigil == "@" and key in workspace.users:
            return "@" + workspace.users[key].real_name
        if sigil == "#" and key in workspace.channels:
            return "#" + workspace.channels[key].name
        return match.group(0)

    return _MENTION.sub(name, text)


class Watcher:
    """Remembers how much of the workspace has been shown and yields only what is new."""

    def __init__(self, workspace: SandboxWorkspace) -> None:
        self.workspace = workspace
        self._messages: dict[str, int] = {}
        self._ephemerals = 0
        self._homes: dict[str, dict[str, Any]] = {}
        self._views: set[str] = set()

    def new(self) -> list[Seen]:
        ws = self.workspace
        seen: list[Seen] = []
        for channel in list(ws.channels.values()):
            start = self._messages.get(channel.id, 0)
            for message in channel.messages[start:]:
                readers = tuple(sorted(m for m in channel.members if m != ws.bot.id))
                where = "DM from Baton" if channel.is_im else f"#{channel.name}"
                if message.thread_ts and message.thread_ts != message.ts:
                    where += " (thread)"
                seen.append(
                    Seen(message.at, readers, where, render_blocks(message.blocks, message.text))
                )
            self._messages[channel.id] = len(channel.messages)
        for ephemeral in ws.ephemerals[self._ephemerals :]:
            seen.append(
                Seen(
                    ephemeral.at,
                    (ephemeral.user,),
                    "only visible to you",
                    render_blocks(ephemeral.blocks, ephemeral.text),
                )
            )
        self._ephemerals = len(ws.ephemerals)
        for user_id, view in ws.home_views.items():
            if self._homes.get(user_id) is not view:
                seen.append(
                    Seen(ws.clock(), (user_id,), "App Home", render_blocks(view.get("blocks")))
                )
                self._homes[user_id] = view
        for view_id, opened in list(ws.views.items()):
            if view_id not in self._views:
                title = opened.view.get("title", {}).get("text", "")
                seen.append(
                    Seen(
                        ws.clock(),
                        (opened.user,),
                        f"modal “{title}”",
                        render_blocks(opened.view.get("blocks")),
                    )
                )
                self._views.add(view_id)
        seen = [Seen(s.at, s.user_ids, s.where, humanize(s.text, ws)) for s in seen]
        return sorted(seen, key=lambda s: s.at)
