"""What the features plug into the outbox and the tick at start-up.

The outbox sits below the features and imports none of them: it knows a message's kind,
not what a kind means. Each feature registers, for its own kinds, whether a message is still
worth sending (relevance), how it is written at send time (compose), where it goes instead
(routes), and what the tick must do for it (planners and stages). Registration order is the
order things run in (see `bot.runtime.features`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlmodel import Session

from bot.platform.batch import PlanBatch
from bot.platform.outlook import Outlook
from storage.kinds import MessageKind
from storage.models import Account
from storage.outbox import Claim

# Whether a claimed message about a live account is moot: the reason, or None to send it.
Relevance = Callable[[Session, Claim, Account], str | None]
# A message written when it is sent (a digest): the claim with its text, why not, or None
# to send it as it is (it was written already).
Compose = Callable[[Session, Any, Claim, datetime], Claim | str | None]
# Somewhere else to send it (a backup, a manager): the new claim, a reason to drop it, or None.
Route = Callable[[Any, Session, Claim, datetime], Claim | str | None]
# Why it must wait (a channel shared outside the company), or None.
Guard = Callable[[Any, Claim, datetime], Awaitable[str | None]]
# Before an account is planned: the account as it is now, and when to look again (or None).
Prepare = Callable[[Any, Account, datetime], Awaitable[tuple[Account, datetime | None]]]
# Before a batch of accounts is planned: what its planners need from outside the database
# (e.g. people's time zones, which may ask Slack), gathered into the batch.
Gather = Callable[[Any, PlanBatch], Awaitable[None]]
# One feature's planner, for a batch of accounts in the unit that owes their messages (the
# session, the services, the batch): it reads what the batch needs at once, and owes and
# says when to come back through the batch (`PlanBatch.each` keeps accounts apart).
Planner = Callable[[Session, Any, PlanBatch], None]
# A tick stage: the services, the tick's instant, the paused workspaces.
Stage = Callable[[Any, datetime, Collection[str]], Awaitable[object]]
# Whether a stage has work, by what the tick saw as it began (the services, the outlook).
When = Callable[[Any, Outlook], bool]
# An account's fields changed (field → (before, after)): what follows from it, in the unit
# that changed them (the services, the account, the changes, now): the ids of what it owes.
AccountChanged = Callable[
    [Session, Any, Account, dict[str, tuple[object, object]], datetime], list[int]
]
# A section of the managers' Monday digest (the session, the services, the team, now): its
# heading and lines, or None for nothing to say this week.
DigestSection = Callable[[Session, Any, str, datetime], tuple[str, list[str]] | None]
Phase = Literal["before_reconcile", "before_planning", "after_planning"]
# When a stage next has work that only this process knows of (what it remembers between
# ticks, not what the database holds: see `storage.upcoming`), or None for nothing.
Wake = Callable[[Any], datetime | None]


@dataclass(frozen=True)
class Staged:
    name: str
    work: Stage
    when: When | None
    owes: bool


@dataclass
class Hooks:
    # A table per kind: each feature registers the rules of its own kinds.
    relevance: dict[MessageKind, Relevance] = field(default_factory=dict)
    compose: dict[MessageKind, Compose] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    guards: list[Guard] = field(default_factory=list)
    prepare: list[Prepare] = field(default_factory=list)
    gather: list[Gather] = field(default_factory=list)
    planners: list[Planner] = field(default_factory=list)
    stages: dict[str, list[Staged]] = field(default_factory=dict)
    account_changed: list[AccountChanged] = field(default_factory=list)
    wakes: list[Wake] = field(default_factory=list)
    digest_sections: list[DigestSection] = field(default_factory=list)
    # The same, for a manager's App Home (every time it is drawn, not only with news).
    home_sections: list[DigestSection] = field(default_factory=list)

    def on_kinds(self, kinds: Collection[MessageKind], relevance: Relevance) -> None:
        for kind in kinds:
            if kind in self.relevance:
                raise ValueError(f"two features claim the message kind {kind!r}")
            self.relevance[kind] = relevance

    def stage(
        self, phase: Phase, name: str, work: Stage, *, when: When | None = None, owes: bool = False
    ) -> None:
        """A tick stage; with `when`, skipped when the outlook says it has nothing to do
        (`bot.platform.outlook`); `owes`: it may owe messages (what runs after it looks)."""
        self.stages.setdefault(phase, []).append(Staged(name, work, when, owes))

    def stages_of(self, phase: Phase) -> list[Staged]:
        return self.stages.get(phase, [])
