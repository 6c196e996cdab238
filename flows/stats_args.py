"""`/baton stats [days] [model|@person|#channel]`: what is asked, read from what is typed."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flows.retention import RetentionModel

DEFAULT_DAYS = 90
MAX_DAYS = 3650
USAGE = "/baton stats [days] [model|@person|#channel]"
_DAYS = re.compile(r"^[0-9]{1,6}$")
_PERSON = re.compile(r"^<@([UW][A-Z0-9]{2,20})(?:\|[^>]*)?>$")
_CHANNEL = re.compile(r"^<#(C[A-Z0-9]{2,20})(?:\|[^>]*)?>$")


@dataclass(frozen=True)
class StatsQuery:
    days: int = DEFAULT_DAYS
    model: RetentionModel | None = None
    person: str | None = None  # a Slack user id: the accounts they are AE or CSM of
    channel: str | None = None  # an account's channel id

    def scope(self) -> str:
        """The population, in words."""
        if self.model:
            return f"model {self.model.value}"
        if self.person:
            return f"<@{self.person}>'s accounts"
        if self.channel:
            return f"<#{self.channel}>"
        return "every account"


def parse_stats_args(text: str) -> StatsQuery | str:
    """The query, or one sentence saying what is wrong with the words."""
    days, narrowing = DEFAULT_DAYS, None
    query = StatsQuery()
    words = text.split()
    for index, word in enumerate(words):
        if word.lower() == "model" and index + 1 < len(words):
            continue  # "model B" as well as "B"
        if _DAYS.match(word):
            days = int(word)
            if not 1 <= days <= MAX_DAYS:
                return f"The number of days must be from 1 to {MAX_DAYS}: `{USAGE}`."
            continue
        if narrowing is not None:
            return f"Give at most one of a model, a person or a channel: `{USAGE}`."
        narrowing = word
    if narrowing is not None:
        found = _narrowed(narrowing)
        if isinstance(found, str):
            return found
        query = found
    return StatsQuery(days, query.model, query.person, query.channel)


def _narrowed(word: str) -> StatsQuery | str:
    if (person := _PERSON.match(word)) is not None:
        return StatsQuery(person=person.group(1))
    if (channel := _CHANNEL.match(word)) is not None:
        return StatsQuery(channel=channel.group(1))
    model = word.upper().removeprefix("MODEL")
    if model in {m.value for m in RetentionModel}:
        return StatsQuery(model=RetentionModel(model))
    return (
        "Narrow the numbers by a retention model (A, B, C or D), a person (@name) or an "
        f"account's channel (#channel): `{USAGE}`."
    )
