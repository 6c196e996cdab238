"""Retention-model pilots (PLAYBOOK: pilot a model on 20–30 accounts for one cycle and
compare it with a baseline): reading `/baton pilot …`, and the cohort against the rest.

How the accounts are written: as every other command takes one account (its name in any
case and word order, its CRM id, its channel's name, or a #channel picked from Slack's
autocomplete), several of them separated by commas. A #channel needs no comma (spaces
do), and a name containing a comma goes in double quotes: `"Acme, Inc."`. A name with
spaces needs no quotes: `Acme Robotics, Globex, #acct-initech`.

The numbers of a group are computed by `flows.stats.compute_stats` over its facts alone
(`split_facts`), pooled into one group (`pooled`) so that the renewal and expansion rates
are taken over the whole group, not averaged across models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from flows.retention import RetentionModel
from flows.stats import Facts, Measure, Rate, Stats, filter_facts

MIN_GROUP = 20  # the playbook's cohort is 20–30 accounts: fewer is a warning, not a refusal
MAX_ACCOUNTS = 200
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
RESERVED = frozenset({"start", "list"})
POOL = "pool"  # the one model key of a pooled group
START_USAGE = "/baton pilot start <name> <model> <account>, <account>, #channel…"
USAGE = "/baton pilot [<name> | start <name> <model> <accounts or #channels…>]"
_MENTION = re.compile(r"<#[A-Z0-9]+(?:\|[^>]*)?>")
_QUOTES = {'"': '"', "“": "”", "„": "“"}


@dataclass(frozen=True)
class StartPilot:
    name: str
    model: RetentionModel
    accounts: tuple[str, ...]  # each as typed: a name, a CRM id, a #channel (or its mention)


@dataclass(frozen=True)
class ShowPilot:
    name: str


@dataclass(frozen=True)
class ListPilots:
    pass


PilotCommand = StartPilot | ShowPilot | ListPilots


def parse_pilot(text: str) -> PilotCommand | str:
    """What `/baton pilot …` asks, or one sentence saying how to write it."""
    words = text.split()
    if not words:
        return ListPilots()
    if words[0].lower() != "start":
        if len(words) > 1:
            return f"Name one pilot, or start one: `{USAGE}`."
        return ShowPilot(words[0])
    if len(words) < 4:
        return f"I need a name, a retention model and the accounts: `{START_USAGE}`."
    problem = name_problem(words[1])
    if problem:
        return problem
    model = words[2].upper()
    if model not in {m.value for m in RetentionModel}:
        return f"“{words[2][:20]}” is not a retention model; use A, B, C or D: `{START_USAGE}`."
    rest = text.split(None, 3)[3]
    accounts = split_accounts(rest)
    if isinstance(accounts, str):
        return accounts
    if len(accounts) > MAX_ACCOUNTS:
        return f"A pilot takes at most {MAX_ACCOUNTS} accounts; you named {len(accounts)}."
    return StartPilot(words[1], RetentionModel(model), accounts)


def name_problem(name: str) -> str | None:
    """Why `name` can't name a pilot, in one sentence; None if it can."""
    if name.lower() in RESERVED:
        return f"“{name}” is a word of the command; give the pilot another name."
    if not NAME.match(name):
        return (
            "A pilot's name is 1 to 40 letters, digits, dots, dashes or underscores, "
            f"starting with a letter or digit (for example `q3-model-b`): `{START_USAGE}`."
        )
    return None


def split_accounts(text: str) -> tuple[str, ...] | str:
    """The accounts as typed, in order (see the module's docstring for the rule)."""
    pieces = _pieces(text)
    if pieces is None:
        return 'A quote is not closed: put a name containing a comma in "double quotes".'
    items: list[str] = []
    for piece, quoted in pieces:
        items += _item(piece, quoted)
    items = [i for i in items if i]
    if not items:
        return f"Name the pilot's accounts, separated by commas: `{START_USAGE}`."
    return tuple(dict.fromkeys(items))


def _pieces(text: str) -> list[tuple[str, bool]] | None:
    """Split at commas outside quotes: (the piece, whether it was quoted). None: an
    unclosed quote."""
    pieces: list[tuple[str, bool]] = []
    current: list[str] = []
    closing: str | None = None
    quoted = False
    for char in text:
        if closing is not None:
            if char == closing:
                closing = None
            else:
                current.append(char)
        elif char in _QUOTES:
            closing, quoted = _QUOTES[char], True
        elif char == ",":
            pieces.append(("".join(current), quoted))
            current, quoted = [], False
        else:
            current.append(char)
    if closing is not None:
        return None
    pieces.append(("".join(current), quoted))
    return pieces


def _item(piece: str, quoted: bool) -> list[str]:
    """A piece between commas: its #channels each on their own, the other words one name
    (a quoted piece is one name, taken whole)."""
    if quoted:
        return [" ".join(piece.split())]
    channels = _MENTION.findall(piece)
    words = _MENTION.sub(" ", piece).split()
    channels += [w for w in words if w.startswith("#") and len(w) > 1]
    name = " ".join(w for w in words if not w.startswith("#"))
    return [name, *channels] if name else channels


# --- the comparison ------------------------------------------------------------------------
@dataclass(frozen=True)
class Group:
    """One side of a comparison; every number with its sample."""

    accounts: int
    renewal: Rate
    """Renewed ÷ (renewed + churned) among the group's outcomes effective in the window."""
    expansion: Measure
    """New ARR ÷ prior ARR − 1 over the group's renewals in the window."""
    escalations: int
    escalations_per_account: Measure
    """The window's escalations about the group's accounts, per account (n: accounts)."""
    nudges_on_time: Rate
    """Nudge response: of the group's milestones first nudged in the window, the share done
    by the nudge's escalation time (flows.stats milestone_on_time)."""


@dataclass(frozen=True)
class Comparison:
    name: str
    model: str
    cohort: Group
    rest: Group
    warnings: tuple[str, ...]


def pooled(facts: Facts) -> Facts:
    """The same facts with every account under one model key (POOL), so the per-model
    numbers of `compute_stats` are the whole group's."""
    return replace(facts, accounts=tuple(replace(a, retention_model=POOL) for a in facts.accounts))


def split_facts(facts: Facts, account_ids: set[int]) -> tuple[Facts, Facts]:
    """(the cohort's facts, the rest's), each pooled."""
    every = {a.account_id for a in facts.accounts}
    cohort = filter_facts(facts, account_ids=account_ids)
    rest = filter_facts(facts, account_ids=every - account_ids)
    return pooled(cohort), pooled(rest)


def group(stats: Stats, accounts: int) -> Group:
    """A group's numbers from compute_stats over its pooled facts (`accounts`: how many
    accounts those facts hold)."""
    escalations = sum(stats.escalations_by_person.values())
    return Group(
        accounts=accounts,
        renewal=stats.renewal_by_model.get(POOL, Rate(None, 0)),
        expansion=stats.expansion_by_model.get(POOL, Measure(None, 0)),
        escalations=escalations,
        escalations_per_account=Measure(
            round(escalations / accounts, 3) if accounts else None, accounts
        ),
        nudges_on_time=stats.milestone_on_time,
    )


def compare(name: str, model: str, cohort: Group, rest: Group) -> Comparison:
    return Comparison(name, model, cohort, rest, warnings(cohort, rest))


def warnings(cohort: Group, rest: Group) -> tuple[str, ...]:
    """A group of fewer than MIN_GROUP accounts: its rates are anecdotes, not evidence."""
    found = (small_group("The pilot", cohort.accounts), small_group("The rest", rest.accounts))
    return tuple(w for w in found if w)


def small_group(label: str, accounts: int) -> str | None:
    if accounts >= MIN_GROUP:
        return None
    plural = "s" if accounts != 1 else ""
    return (
        f"{label} has {accounts} account{plural}, fewer than {MIN_GROUP}: read its numbers "
        "as anecdotes, not evidence."
    )
