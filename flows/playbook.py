"""The renewal playbook: which milestones each renewal cycle has, read from a TOML file."""

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
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


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


class PlaybookError(ValueError):
    """The playbook file is wrong; the message says where and how, in one sentence each."""


def load_playbook(path: Path = DEFAULT_PLAYBOOK) -> tuple[Step, ...]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PlaybookError(f"{path} could not be read as TOML: {exc}.") from None
    return parse_playbook(data, str(path))


def parse_playbook(data: dict, source: str = "the playbook") -> tuple[Step, ...]:
    entries = data.get("milestone")
    if not isinstance(entries, list) or not entries:
        raise PlaybookError(f"{source} has no [[milestone]] entries.")
    milestones = [_milestone(entry, index, source) for index, entry in enumerate(entries, 1)]
    keys = [m.key for m in milestones]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise PlaybookError(f"{source} uses the key {duplicates[0]!r} more than once.")
    missing = [key for key in MINIMUM if key not in keys]
    if missing:
        raise PlaybookError(
            f"{source} is missing {', '.join(missing)}: month 5 and days "
            f"120, 90 and 30 are the minimum and cannot be removed."
        )
    return tuple(sorted(milestones, key=_order))


def _milestone(entry: object, index: int, source: str) -> Step:
    where = f"{source}, milestone {index}"
    if not isinstance(entry, dict):
        raise PlaybookError(f"{where} is not a table.")
    key = str(entry.get("key", ""))
    if not _KEY.match(key):
        raise PlaybookError(f"{where}: key must be lowercase letters, digits and hyphens.")
    when = _WHEN.match(str(entry.get("when", "")).strip().lower())
    if not when:
        raise PlaybookError(f'{where} ({key}): when must be like "month 5" or "day 120".')
    anchor, offset = Anchor(when.group(1)), int(when.group(2))
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
    return Step(
        key=key,
        title=title,
        anchor=anchor,
        offset=offset,
        owners=owners,
        activity=str(entry.get("activity") or "").strip(),
        goal=str(entry.get("goal") or "").strip(),
        silent=silent,
    )


def _order(milestone: Step) -> tuple[int, int]:
    """Chronological within a cycle: months first (by month), then days (largest first)."""
    if milestone.anchor == Anchor.CYCLE_MONTH:
        return (0, milestone.offset)
    return (1, -milestone.offset)
