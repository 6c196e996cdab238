"""What people saw in the sandbox since the last look, rendered for a terminal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.sandbox.state import SandboxWorkspace
from bot.sandbox.terminal import PLAIN, Names, Style, blocks


@dataclass(frozen=True)
class Seen:
    at: datetime
    user_ids: tuple[str, ...]
    where: str
    text: str


def names_of(workspace: SandboxWorkspace) -> Names:
    """The workspace's people and channels by id, as its client names them."""
    return Names(
        users={u.id: u.real_name or u.name for u in workspace.users.values()},
        channels={c.id: c.name for c in workspace.channels.values()},
    )


class Watcher:
    """Remembers how much of the workspace has been shown and yields only what is new."""

    def __init__(self, workspace: SandboxWorkspace, style: Style = PLAIN) -> None:
        self.workspace = workspace
        self.style = style
        self._messages: dict[str, int] = {}
        self._ephemerals = 0
        self._homes: dict[str, dict[str, Any]] = {}
        self._views: set[str] = set()

    def new(self) -> list[Seen]:
        ws = self.workspace
        names = names_of(ws)

        def render(value: Any, fallback: str = "") -> str:
            return blocks(value, fallback, names, self.style)

        seen: list[Seen] = []
        for channel in list(ws.channels.values()):
            start = self._messages.get(channel.id, 0)
            for message in channel.messages[start:]:
                readers = tuple(sorted(m for m in channel.members if m != ws.bot.id))
                where = "DM from Baton" if channel.is_im else f"#{channel.name}"
                if message.thread_ts and message.thread_ts != message.ts:
                    where += " (thread)"
                seen.append(Seen(message.at, readers, where, render(message.blocks, message.text)))
            self._messages[channel.id] = len(channel.messages)
        for ephemeral in ws.ephemerals[self._ephemerals :]:
            seen.append(
                Seen(
                    ephemeral.at,
                    (ephemeral.user,),
                    "only visible to you",
                    render(ephemeral.blocks, ephemeral.text),
                )
            )
        self._ephemerals = len(ws.ephemerals)
        for user_id, view in ws.home_views.items():
            if self._homes.get(user_id) is not view:
                seen.append(Seen(ws.clock(), (user_id,), "App Home", render(view.get("blocks"))))
                self._homes[user_id] = view
        for view_id, opened in list(ws.views.items()):
            if view_id not in self._views:
                title = opened.view.get("title", {}).get("text", "")
                seen.append(
                    Seen(
                        ws.clock(),
                        (opened.user,),
                        f"modal “{title}”",
                        render(opened.view.get("blocks")),
                    )
                )
                self._views.add(view_id)
        return sorted(seen, key=lambda s: s.at)
