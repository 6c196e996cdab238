"""Rituals and tiers in the playbook file: the recurrence and its occurrences, the steps
answered in one line or a checklist, the tiers by ARR rank, and their mistakes."""

import tomllib
from datetime import date
from decimal import Decimal

import pytest

from flows.playbook import DEFAULT_PLAYBOOK, PlaybookError, load_tiers, parse_playbook, parse_tiers
from flows.renewal import plan_cycle
from flows.tiers import boundaries, boundary_rank, tier_of

RENEWAL = date(2028, 1, 4)  # the cycle starts Tue 4 Jan 2027


def default_data() -> dict:
    return tomllib.loads(DEFAULT_PLAYBOOK.read_text())


def step(data: dict, key: str) -> dict:
    return next(m for m in data["milestone"] if m["key"] == key)


def keys(plan) -> list[str]:  # noqa: ANN001
    return [p.key for p in plan]


def test_a_ritual_is_one_milestone_per_occurrence_with_a_key_per_month() -> None:
    plan = plan_cycle(parse_playbook(default_data()), RENEWAL, "ae")
    checkins = [p for p in plan if p.milestone.key == "ae-checkin"]
    assert [p.key for p in checkins] == [f"ae-checkin-m{m}" for m in range(6)]
    assert [p.day for p in checkins][:3] == [date(2027, 1, 4), date(2027, 2, 4), date(2027, 3, 4)]
    assert all(p.owners == ("ae",) for p in checkins)
    health = [p for p in plan if p.milestone.key == "csm-health"]
    assert [p.owners for p in health] == [("csm",)] * 6
    assert all(p.milestone.answer == "line" for p in checkins + health)


def test_the_handoff_window_has_its_own_check_ins() -> None:
    """In the first cycle, the occurrences up to day 30 after the close are not planned."""
    playbook = parse_playbook(default_data())
    plan = plan_cycle(playbook, RENEWAL, "ae", handoff_ends=date(2027, 2, 3))
    assert "ae-checkin-m0" not in keys(plan) and "csm-health-m0" not in keys(plan)
    assert "ae-checkin-m1" in keys(plan)  # Thu 4 Feb, the day after
    assert "month-5" in keys(plan)  # only rituals give way


def test_the_qbr_is_for_the_top_tier_only_and_avoids_the_day_120_review() -> None:
    playbook = parse_playbook(default_data())
    assert not [k for k in keys(plan_cycle(playbook, RENEWAL, "ae")) if k.startswith("qbr")]
    assert not [k for k in keys(plan_cycle(playbook, RENEWAL, "ae", tier="mid")) if "qbr" in k]
    top = {p.key: p for p in plan_cycle(playbook, RENEWAL, "ae", tier="top")}
    assert [k for k in top if k.startswith("qbr")] == ["qbr-m1", "qbr-m4"]
    assert top["qbr-m1"].owners == ("csm", "ae")  # joint
    months_apart = (top["day-120"].day - top["qbr-m4"].day).days // 30
    assert months_apart >= 3 and top["qbr-m4"].day < top["month-5"].day


def test_the_handover_steps_are_checklists_handed_to_the_ae() -> None:
    playbook = {s.key: s for s in parse_playbook(default_data())}
    handover, close = playbook["expansion-handover"], playbook["close-materials"]
    assert handover.offset == 6 and close.offset == 9
    assert handover.checklist == ("Expansion documents", "Usage metrics", "Champion intel")
    assert close.checklist == ("Success stories", "References", "Roadmap document")
    assert handover.answer == close.answer == "checklist"
    assert handover.owners == close.owners == ("csm",) and handover.to == close.to == "ae"


def test_a_team_can_remove_a_ritual_or_change_its_months() -> None:
    data = default_data()
    data["milestone"] = [m for m in data["milestone"] if m["key"] != "ae-checkin"]
    step(data, "csm-health")["when"] = "every 2 months, months 1-5"
    plan = keys(plan_cycle(parse_playbook(data), RENEWAL, "csm"))
    assert not [k for k in plan if k.startswith("ae-checkin")]
    assert [k for k in plan if k.startswith("csm-health")] == [
        "csm-health-m1",
        "csm-health-m3",
        "csm-health-m5",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"when": "monthly, months 3-1"}, "first month first"),
        ({"when": "monthly, months 0-12"}, "within months 0–11"),
        ({"when": "every 0 months, months 0-5"}, "every 1–11 months"),
        ({"when": "weekly, months 0-5"}, "when must be like"),
        ({"key": "a" * 37}, "at most 36 characters"),
        ({"answer": "essay"}, "answer must be outcome, line or checklist"),
        ({"answer": "checklist"}, "goes with checklist items"),
        ({"checklist": ["Usage metrics"]}, "goes with checklist items"),  # answer = "line"
        ({"answer": None, "checklist": ["Usage metrics", ""]}, "goes with checklist items"),
        ({"answer": None, "checklist": [f"item {n}" for n in range(11)]}, "at most 10 items"),
        ({"to": "ops"}, "to must be csm, ae or am"),
        ({"tier": "top"}, "tier must be a list"),
        ({"tier": ["gold"]}, "tier 'gold' is not a \\[\\[tier\\]\\]"),
    ],
)
def test_ritual_mistakes_are_named_precisely(change: dict, message: str) -> None:
    data = default_data()
    entry = step(data, "ae-checkin")
    entry.update(change)
    with pytest.raises(PlaybookError, match=message):
        parse_playbook(data, "team.toml")


def test_an_occurrence_key_may_not_collide_with_another_step() -> None:
    data = default_data()
    data["milestone"].append(
        {"key": "ae-checkin-m2", "title": "Extra", "when": "month 2", "owners": ["ae"]}
    )
    with pytest.raises(PlaybookError, match="'ae-checkin-m2' more than once"):
        parse_playbook(data, "team.toml")


def test_the_minimum_stays_mandatory_beside_the_rituals() -> None:
    data = default_data()
    data["milestone"] = [m for m in data["milestone"] if m["key"] != "day-90"]
    with pytest.raises(PlaybookError, match="missing day-90"):
        parse_playbook(data, "team.toml")


def test_the_default_tiers_follow_the_tiered_motion() -> None:
    top, mid, smb = load_tiers()
    assert (top.name, top.share, mid.name, mid.share, smb.name, smb.share) == (
        "top",
        20,
        "mid",
        30,
        "smb",
        None,
    )
    assert boundaries((top, mid, smb)) == [20, 50]


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([{"name": "top", "title": "Top", "share": 20}], "the last takes the rest"),
        ([{"name": "top", "title": "Top"}, {"name": "b", "title": "B"}], "needs a share"),
        (
            [{"name": "a", "title": "A", "share": 60}, {"name": "b", "title": "B", "share": 40}]
            + [{"name": "c", "title": "C"}],
            "less than 100",
        ),
        ([{"name": "top", "title": "Top", "share": 0}, {"name": "b", "title": "B"}], "1 to 99"),
        ([{"name": "top", "title": "Top", "share": 2.5}, {"name": "b", "title": "B"}], "1 to 99"),
        ([{"name": "Top!", "title": "Top"}], "name must be lowercase"),
        ([{"name": "top", "title": " "}], "needs a title"),
        ([{"name": "a", "title": "A", "share": 5}, {"name": "a", "title": "A"}], "more than once"),
        ([{"name": f"t{n}", "title": "T", "share": 1} for n in range(6)], "at most 5"),
    ],
)
def test_tier_mistakes_are_named_precisely(tiers: list, message: str) -> None:
    with pytest.raises(PlaybookError, match=message):
        parse_tiers({"tier": tiers}, "team.toml")


def test_a_tier_is_the_rank_of_the_arr_among_the_live_accounts() -> None:
    tiers = load_tiers()
    # Ten accounts: the top 20 % are ranks 1-2, the next 30 % ranks 3-5.
    assert boundary_rank(10, 20) == 2 and boundary_rank(10, 50) == 5
    assert boundary_rank(3, 20) == 1 and boundary_rank(1, 50) == 1
    cutoffs = [Decimal(90_000), Decimal(60_000)]
    assert tier_of(Decimal(95_000), cutoffs, tiers).name == "top"
    assert tier_of(Decimal(90_000), cutoffs, tiers).name == "top"  # a tie goes up
    assert tier_of(Decimal(60_000), cutoffs, tiers).name == "mid"
    assert tier_of(Decimal(59_999), cutoffs, tiers).name == "smb"
    assert tier_of(Decimal(1), [], tiers).name == "smb"
    assert tier_of(Decimal(1), [], ()) is None
