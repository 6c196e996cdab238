import tomllib
from datetime import date
from decimal import Decimal

import pytest

from flows.playbook import DEFAULT_PLAYBOOK, MINIMUM, PlaybookError, load_playbook, parse_playbook
from flows.renewal import (
    commercial_owner,
    crosses_threshold,
    cycle_start,
    milestone_day,
    plan_cycle,
    previous_working_day,
)
from flows.retention import RetentionModel

PLAYBOOK = load_playbook()
BY_KEY = {m.key: m for m in PLAYBOOK}


def default_data() -> dict:
    return tomllib.loads(DEFAULT_PLAYBOOK.read_text())


def test_default_playbook_has_the_whole_cycle_in_order() -> None:
    assert [m.key for m in PLAYBOOK if not m.every] == [
        "month-5",
        "expansion-handover",
        "month-6",
        "close-materials",
        "month-10",
        "day-120",
        "day-105",
        "day-90",
        "day-75",
        "day-45",
        "day-30",
        "day-7",
    ]
    assert BY_KEY["day-120"].silent == ("ae",)
    assert BY_KEY["day-90"].owners == ("commercial", "csm")


@pytest.mark.parametrize("key", MINIMUM)
def test_the_minimum_milestones_cannot_be_removed(key: str) -> None:
    data = default_data()
    data["milestone"] = [m for m in data["milestone"] if m["key"] != key]
    with pytest.raises(PlaybookError, match=f"missing {key}.*cannot be removed"):
        parse_playbook(data, "team.toml")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"when": "week 3"}, "when must be like"),
        ({"when": "month 14"}, "months run 0–11"),
        ({"owners": ["boss"]}, "owners must be some of"),
        ({"owners": []}, "owners must be some of"),
        ({"key": "Day 120!"}, "key must be lowercase"),
        ({"title": " "}, "needs a title"),
        ({"silent": ["ghost"]}, "silent must be some of"),
    ],
)
def test_mistakes_are_named_precisely(change: dict, message: str) -> None:
    data = default_data()
    data["milestone"][2] = {**data["milestone"][2], **change}
    with pytest.raises(PlaybookError, match=message):
        parse_playbook(data, "team.toml")


def test_duplicates_and_empty_files_are_refused(tmp_path) -> None:  # noqa: ANN001
    data = default_data()
    data["milestone"].append(dict(data["milestone"][0]))
    with pytest.raises(PlaybookError, match="more than once"):
        parse_playbook(data)
    broken = tmp_path / "p.toml"
    broken.write_text("[[milestone]\n")
    with pytest.raises(PlaybookError, match="could not be read as TOML"):
        load_playbook(broken)
    with pytest.raises(PlaybookError, match="no \\[\\[milestone\\]\\]"):
        parse_playbook({})


def test_a_team_can_add_a_milestone() -> None:
    data = default_data()
    data["milestone"].append(
        {"key": "day-60", "title": "Legal review", "when": "day 60", "owners": ["ops"]}
    )
    keys = [m.key for m in parse_playbook(data)]
    assert keys.index("day-60") == keys.index("day-75") + 1


def test_days_before_renewal_roll_back_to_a_working_day() -> None:
    renewal = date(2028, 3, 6)  # a Monday
    # day 30 falls on Saturday 5 Feb 2028: rolled back to Friday 4 Feb.
    assert milestone_day(BY_KEY["day-30"], renewal) == date(2028, 2, 4)
    assert milestone_day(BY_KEY["day-90"], renewal) == date(2027, 12, 7)
    # day 120 falls on Sunday 7 Nov 2027: rolled back to Friday 5 Nov.
    assert milestone_day(BY_KEY["day-120"], renewal) == date(2027, 11, 5)


def test_month_steps_roll_forward_and_respect_holidays() -> None:
    renewal = date(2028, 6, 10)
    assert cycle_start(renewal) == date(2027, 6, 10)
    # Month 5 = 10 Nov 2027 (Wednesday); a holiday that day pushes it to Thursday.
    assert milestone_day(BY_KEY["month-5"], renewal) == date(2027, 11, 10)
    assert milestone_day(BY_KEY["month-5"], renewal, {date(2027, 11, 10)}) == date(2027, 11, 11)
    assert previous_working_day(date(2027, 11, 14), {date(2027, 11, 12)}) == date(2027, 11, 11)


def test_feb_29_renewals() -> None:
    renewal = date(2028, 2, 29)
    assert cycle_start(renewal) == date(2027, 2, 28)
    assert milestone_day(BY_KEY["month-5"], renewal) == date(2027, 7, 28)
    # day 30 is Sunday 30 Jan 2028: rolled back to Friday 28 Jan.
    assert milestone_day(BY_KEY["day-30"], renewal) == date(2028, 1, 28)


@pytest.mark.parametrize(
    ("model", "arr", "has_am", "owner"),
    [
        (RetentionModel.CLEAN_HANDOFF, 10_000, False, "csm"),
        (RetentionModel.CLEAN_HANDOFF, 10_000, True, "am"),
        (RetentionModel.AE_RETAINS, 10_000, True, "ae"),
        (RetentionModel.AM_BRIDGE, 10_000, True, "am"),
        (RetentionModel.AM_BRIDGE, 10_000, False, "csm"),
        (RetentionModel.TIERED, 74_999, False, "csm"),
        (RetentionModel.TIERED, 75_000, False, "ae"),
    ],
)
def test_commercial_owner_follows_the_retention_model(model, arr, has_am, owner) -> None:  # noqa: ANN001
    assert commercial_owner(model, Decimal(arr), Decimal(75_000), has_am) == owner


def test_plan_resolves_owners_and_orders_the_cycle() -> None:
    plan = plan_cycle(PLAYBOOK, date(2028, 1, 4), commercial="ae")
    assert [p.key for p in plan if not p.milestone.every][:3] == [
        "month-5",
        "expansion-handover",
        "month-6",
    ]
    day90 = next(p for p in plan if p.milestone.key == "day-90")
    assert day90.owners == ("ae", "csm")
    same = plan_cycle(PLAYBOOK, date(2028, 1, 4), commercial="csm")
    assert next(p for p in same if p.milestone.key == "day-90").owners == ("csm",)
    assert all(p.day.weekday() < 5 for p in plan)
    # The close checkpoint: month 10 of the renewal year, for the commercial owner.
    close = next(p for p in plan if p.milestone.key == "month-10")
    assert (close.day, close.owners) == (date(2027, 11, 4), ("ae",))


def test_threshold_crossing() -> None:
    threshold = Decimal(75_000)
    assert crosses_threshold(Decimal(70_000), Decimal(80_000), threshold)
    assert crosses_threshold(Decimal(75_000), Decimal(74_999), threshold)
    assert not crosses_threshold(Decimal(80_000), Decimal(90_000), threshold)
