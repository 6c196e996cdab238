"""Accounts planned together, in one unit of work (see `bot.outbox.planning`).

The features' planners each read what the whole batch needs in one query, work out each
account on its own, and owe through the batch; the batch's messages, failures and next
planning times are written at once when every planner is done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from storage.faults import FaultKey
from storage.models import Account
from storage.outbox import OwedMessage

log = logging.getLogger(__name__)
T = TypeVar("T")
AccountKey = tuple[str, int]  # (team, account id)
PersonKey = tuple[str, str]  # (team, user id)


class UnknownZone(LookupError):
    """A planner needs someone's time zone that could not be looked up before the unit."""


@dataclass
class PlanBatch:
    now: datetime
    accounts: list[Account] = field(default_factory=list)
    # Gathered before the unit (it may ask Slack): each named person's zone, or why not.
    zones: dict[PersonKey, ZoneInfo] = field(default_factory=dict)
    unknown: dict[PersonKey, str] = field(default_factory=dict)
    # What planning found, by account: messages owed (in the order owed), when to plan it
    # again, when to retry steps that failed, those steps (with the error) and those that
    # worked.
    owed: dict[AccountKey, list[OwedMessage]] = field(default_factory=dict)
    times: dict[AccountKey, list[datetime]] = field(default_factory=dict)
    retries: dict[AccountKey, list[datetime]] = field(default_factory=dict)
    failed: dict[AccountKey, list[tuple[FaultKey, str]]] = field(default_factory=dict)
    worked: set[FaultKey] = field(default_factory=set)
    written: list[OwedMessage] | None = None  # what the unit newly owed, once it ran

    def add(
        self, account: Account, times: Iterable[datetime] = (), retries: Iterable[datetime] = ()
    ) -> None:
        key = (account.team_id, account.id)
        self.accounts.append(account)
        self.owed.setdefault(key, [])
        self.times.setdefault(key, []).extend(times)
        self.retries.setdefault(key, []).extend(retries)

    def keep(self, wanted: set[AccountKey]) -> None:
        """Plan only these of the batch's accounts."""
        self.accounts = [a for a in self.accounts if (a.team_id, a.id) in wanted]

    def gathered(self) -> PlanBatch:
        """An empty batch with what was gathered for this one."""
        return PlanBatch(self.now, zones=self.zones, unknown=self.unknown)

    def zone(self, account: Account, user_id: str) -> ZoneInfo:
        key = (account.team_id, user_id)
        found = self.zones.get(key)
        if found is None:
            why = self.unknown.get(key, "not looked up")
            raise UnknownZone(f"the time zone of {user_id} is not known ({why})")
        return found

    def owe(self, account: Account, *messages: OwedMessage) -> None:
        """Owe these messages; the account is planned again when they fall due."""
        key = (account.team_id, account.id)
        self.owed[key].extend(messages)
        self.times[key].extend(m.due_at for m in messages)

    def come_back(self, account: Account, when: datetime) -> None:
        """Plan the account again at `when` (e.g. when a step comes within the horizon)."""
        self.times[account.team_id, account.id].append(when)

    def each(
        self, step: str, accounts: Iterable[Account], plan: Callable[[Account], T]
    ) -> dict[AccountKey, T]:
        """Run one step for each account on its own: one that fails is logged and recorded
        for that account, owes nothing from this step, and the others go on. Returns what
        the step gave, for the accounts it worked for."""
        done: dict[AccountKey, T] = {}
        for account in accounts:
            key = (account.team_id, account.id)
            owed, times = len(self.owed[key]), len(self.times[key])
            fault = FaultKey(account.team_id, "account", str(account.id), step)
            try:
                done[key] = plan(account)
            except Exception as exc:
                log.exception("%s failed for account %s of team %s", step, account.id,
                              account.team_id)  # fmt: skip
                del self.owed[key][owed:], self.times[key][times:]
                self.failed.setdefault(key, []).append((fault, f"{type(exc).__name__}: {exc}"))
            else:
                self.worked.add(fault)
        return done

    def all_owed(self) -> list[OwedMessage]:
        """Everything owed, account by account in the batch's order."""
        return [m for a in self.accounts for m in self.owed[a.team_id, a.id]]
