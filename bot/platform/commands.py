"""The `/baton` subcommands: one table, filled by the features at start-up.

Each feature declares its subcommands (`SUBCOMMANDS` beside its listeners) and
`bot.runtime.features` adds them to `services.commands`; the one `/baton` listener
(`bot.platform.slash`) dispatches from the table and the help renders from it, so a
subcommand can't be answered without being listed, or listed without being answered.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncAck, AsyncRespond

from bot.platform.kit import Block

if TYPE_CHECKING:
    from bot.platform.services import Services

# What a subcommand answers: the text, and blocks (empty: the text alone).
Answer = tuple[str, list[Block]]


@dataclass(frozen=True)
class Slash:
    """One `/baton` call, as a subcommand's handler gets it."""

    services: Services
    ack: AsyncAck
    respond: AsyncRespond
    command: dict
    text: str  # the words after the subcommand, as the person typed them

    @property
    def team(self) -> str:
        return self.command["team_id"]

    @property
    def user(self) -> str:
        return self.command["user_id"]

    @property
    def channel(self) -> str | None:
        return self.command.get("channel_id")

    @property
    def trigger_id(self) -> str:
        return self.command["trigger_id"]


Handler = Callable[[Slash], Awaitable[None]]


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str  # after `/baton `
    what: str  # mrkdwn, shown as written
    example: str
    who_may: str  # a short phrase: "managers and workspace admins"
    handler: Handler  # acknowledges the call itself (within Slack's 3 seconds)
    rank: int  # where the help lists it, smallest first


@dataclass
class Commands:
    by_name: dict[str, Subcommand] = field(default_factory=dict)

    def add(self, *subcommands: Subcommand) -> None:
        for sub in subcommands:
            if sub.name in self.by_name:
                raise ValueError(f"two features claim the subcommand {sub.name!r}")
            self.by_name[sub.name] = sub

    def get(self, name: str) -> Subcommand | None:
        return self.by_name.get(name)

    def __iter__(self) -> Iterator[Subcommand]:
        """In help order."""
        return iter(sorted(self.by_name.values(), key=lambda sub: (sub.rank, sub.name)))

    def __len__(self) -> int:
        return len(self.by_name)

    def closest(self, word: str) -> Subcommand | None:
        """The subcommand someone most likely meant by a word Baton doesn't know."""
        found = difflib.get_close_matches(word, list(self.by_name), n=1)
        return self.by_name[found[0]] if found else None
