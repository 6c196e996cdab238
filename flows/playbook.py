"""The renewal playbook: which milestones each renewal cycle has, read from a TOML file,
and the account tiers some of them are for."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

DEFAULT_PLAYBOOK = Path(__file__).with_name("playbook.toml")
MINIMUM = ("month-5", "day-120", "day-90", "day-30")
OWNER_ROLES = {"csm", "ae", "am", "ops", "commercial"}
_WHEN = re.compile(r"^(month|day)\s+(\d{1,3})$")
# A ritual: "monthly, months 0-5", "quarterly, months 1-4", "every 2 months, months 0-11".
_EVERY = re.compile(
    r"^(monthly|quarterly|every\s+(\d{1,2})\s+months)\s*,\s*months\s+(\d{1,2})\s*-\s*(\d{1,2})$"
)
_CADENCE = {"monthly": 1, "quarterly": 3}
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
RITUAL_KEY_MAX = 36  # leaves room for the occurrence's "-m11" within the 40 of a key
ANSWERS = {"outcome", "line", "checklist"}  # what the nudge's Done asks for
CHECKLIST_MAX = 10
TIERS_MAX = 5


class Anchor(StrEnum):
    CYCLE_MONTH = "month"  # N months after the cycle starts (renewal date − 12 months)
    DAYS_BEFORE = "day"  # N days before the renewal date


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    anchor: Anchor
    offset: int
    owners: tuple[str, ...]
    activity: str
    goal: str
    silent: tuple[str, ...] = ()
    every: int = 0  # a ritual: once every `every` months from `offset` to `last` (0: once)
    last: int = 0
    tiers: tuple[str, ...] = ()  # only for accounts of these tiers (empty: every account)
    answer: str = "outcome"  # Done asks for an outcome, one line, or the checklist
    checklist: tuple[str, ...] = ()
    to: str | None = None  # the role it is handed to: told when done, may ask for more

    def occurrences(self) -> tuple[tuple[str, int], ...]:
        """Each occurrence's key and offset: a ritual's are keyed by month (`ae-checkin-m2`)."""
        if not self.every:
            return ((self.key, self.offset),)
        months = range(self.offset, self.last + 1, self.every)
        return tuple((f"{self.key}-m{month}", month) for month in months)


@dataclass(frozen=True)
class Tier:
    name: str
    title: str
    share: int | None  # percent of the team's live accounts, by ARR (None: all the rest)
    motion: str


class PlaybookError(ValueError):
    """The playbook file is wrong; the message says where and how, in one sentence each."""


def _read(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PlaybookError(f"{path} could not be read as TOML: {exc}.") from None


def load_playbook(path: Path = DEFAULT_PLAYBOOK) -> tuple[Step, ...]:
    return parse_playbook(_read(path), str(path))


def parse_playbook(data: dict, source: str = "the playbook") -> tuple[Step, ...]:
    entries = data.get("milestone")
    if not isinstance(entries, list) or not entries:
        raise PlaybookError(f"{source} has no [[milestone]] entries.")
    milestones = [_milestone(entry, index, source) for index, entry in enumerate(entries, 1)]
    keys = [key for m in milestones for key, _ in m.occurrences()]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise PlaybookError(f"{source} uses the key {duplicates[0]!r} more than once.")
    missing = [key for key in MINIMUM if key not in keys]
    if missing:
        raise PlaybookError(
            f"{source} is missing {', '.join(missing)}: month 5 and days "
            f"120, 90 and 30 are the minimum and cannot be removed."
        )
    names = {tier.name for tier in parse_tiers(data, source)}
    for m in milestones:
        unknown = [t for t in m.tiers if t not in names]
        if unknown:
            raise PlaybookError(f"{source} ({m.key}): tier {unknown[0]!r} is not a [[tier]].")
    return tuple(sorted(milestones, key=_order))


def load_tiers(path: Path = DEFAULT_PLAYBOOK) -> tuple[Tier, ...]:
    return parse_tiers(_read(path), str(path))


def parse_tiers(data: dict, source: str = "the playbook") -> tuple[Tier, ...]:
    """The [[tier]] entries, top first: each but the last takes its share of the team's
    live accounts by ARR, the last takes the rest."""
    entries = data.get("tier") or []
    if not isinstance(entries, list) or len(entries) > TIERS_MAX:
        raise PlaybookError(f"{source} may have at most {TIERS_MAX} [[tier]] entries.")
    tiers = [_tier(entry, index, source) for index, entry in enumerate(entries, 1)]
    names = [t.name for t in tiers]
    if len(set(names)) < len(names):
        raise PlaybookError(f"{source} names a tier more than once.")
    if tiers and (tiers[-1].share is not None or any(t.share is None for t in tiers[:-1])):
        raise PlaybookError(
            f"{source}: every tier but the last needs a share; the last takes the rest."
        )
    if sum(t.share or 0 for t in tiers) >= 100:
        raise PlaybookError(f"{source}: the tiers' shares must add up to less than 100.")
    return tuple(tiers)


def _tier(entry: object, index: int, source: str) -> Tier:
    where = f"{source}, tier {index}"
    if not isinstance(entry, dict):
        raise PlaybookError(f"{where} is not a table.")
    name = str(entry.get("name", ""))
    if not _KEY.match(name):
        raise PlaybookError(f"{where}: name must be lowercase letters, digits and hyphens.")
    share = entry.get("share")
    if share is not None and (type(share) is not int or not 1 <= share <= 99):
        raise PlaybookError(f"{where} ({name}): share must be a whole percent from 1 to 99.")
    title = str(entry.get("title") or "").strip()
    if not title:
        raise PlaybookError(f"{where} ({name}) needs a title.")
    return Tier(name, title, share, str(entry.get("motion") or "").strip())


def _milestone(entry: object, index: int, source: str) -> Step:
    where = f"{source}, milestone {index}"
    if not isinstance(entry, dict):
        raise PlaybookError(f"{where} is not a table.")
    key = str(entry.get("key", ""))
    if not _KEY.match(key):
        raise PlaybookError(f"{where}: key must be lowercase letters, digits and hyphens.")
    spoken = " ".join(str(entry.get("when", "")).lower().split())
    every, last = 0, 0
    if ritual := _EVERY.match(spoken):
        every = _CADENCE.get(ritual.group(1)) or int(ritual.group(2))
        anchor, offset, last = Anchor.CYCLE_MONTH, int(ritual.group(3)), int(ritual.group(4))
        if not (1 <= every <= 11 and 0 <= offset <= last <= 11):
            raise PlaybookError(
                f"{where} ({key}): a ritual runs every 1–11 months within months 0–11, "
                "first month first."
            )
        if len(key) > RITUAL_KEY_MAX:
            raise PlaybookError(f"{where} ({key}): a ritual's key has at most 36 characters.")
    elif when := _WHEN.match(spoken):
        anchor, offset = Anchor(when.group(1)), int(when.group(2))
    else:
        raise PlaybookError(
            f'{where} ({key}): when must be like "month 5", "day 120" or "monthly, months 0-5".'
        )
    if (anchor == Anchor.CYCLE_MONTH and not 0 <= offset <= 11) or (
        anchor == Anchor.DAYS_BEFORE and not 0 <= offset <= 365
    ):
        raise PlaybookError(f"{where} ({key}): months run 0–11 and days 0–365.")
    owners = tuple(entry.get("owners") or ())
    if not owners or any(owner not in OWNER_ROLES for owner in owners):
        raise PlaybookError(
            f"{where} ({key}): owners must be some of {', '.join(sorted(OWNER_ROLES))}."
        )
    silent = tuple(entry.get("silent") or ())
    if any(role not in OWNER_ROLES for role in silent):
        raise PlaybookError(
            f"{where} ({key}): silent must be some of {', '.join(sorted(OWNER_ROLES))}."
        )
    title = str(entry.get("title") or "").strip()
    if not title:
        raise PlaybookError(f"{where} ({key}) needs a title.")
    tiers = entry.get("tier") or ()
    if isinstance(tiers, str) or not all(isinstance(t, str) for t in tiers):
        raise PlaybookError(f'{where} ({key}): tier must be a list of tier names, like ["top"].')
    checklist = tuple(str(item).strip() for item in entry.get("checklist") or ())
    answer = str(entry.get("answer") or ("checklist" if checklist else "outcome"))
    if answer not in ANSWERS:
        raise PlaybookError(f"{where} ({key}): answer must be outcome, line or checklist.")
    if (answer == "checklist") != bool(checklist) or not all(checklist):
        raise PlaybookError(
            f'{where} ({key}): answer = "checklist" goes with checklist items, and only with it.'
        )
    if len(checklist) > CHECKLIST_MAX or any(len(item) > 75 for item in checklist):
        raise PlaybookError(
            f"{where} ({key}): a checklist has at most 10 items of 75 characters each."
        )
    to = entry.get("to")
    if to is not None and to not in OWNER_ROLES - {"ops", "commercial"}:
        raise PlaybookError(f"{where} ({key}): to must be csm, ae or am.")
    return Step(
        key=key,
        title=title,
        anchor=anchor,
        offset=offset,
        owners=owners,
        activity=str(entry.get("activity") or "").strip(),
        goal=str(entry.get("goal") or "").strip(),
        silent=silent,
        every=every,
        last=last,
        tiers=tuple(tiers),
        answer=answer,
        checklist=checklist,
        to=to,
    )


def _order(milestone: Step) -> tuple[int, int]:
    """Chronological within a cycle: months first (by month), then days (largest first)."""
    if milestone.anchor == Anchor.CYCLE_MONTH:
        return (0, milestone.offset)
    return (1, -milestone.offset)
