"""Who owns an account on a given day, and the ownership commands' arguments."""

from datetime import date, timedelta

import pytest

from flows.ownership import Duty, Facts, Phase, changes, ownership
from flows.ownership_args import (
    Assign,
    Cover,
    EndCover,
    HistoryArgs,
    parse_assign,
    parse_cover,
    parse_day,
    parse_days,
    parse_history,
)
from flows.retention import RetentionModel

CLOSED = date(2027, 1, 4)
B = Facts(CLOSED, date(2028, 1, 4), RetentionModel.AE_RETAINS, "ae", packet_complete=True)
A = Facts(CLOSED, date(2028, 1, 4), RetentionModel.CLEAN_HANDOFF, "csm", packet_complete=True)


def duties(facts: Facts, day: date) -> dict[str, tuple[Duty, ...]]:
    return {p.role: p.duties for p in ownership(facts, day).parts}


def test_the_handoff_window_tapers_from_the_ae_to_the_csm() -> None:
    assert ownership(B, CLOSED).stage == "day 0: closed-won"
    assert duties(B, CLOSED + timedelta(days=3)) == {
        "ae": (Duty.PRIMARY,),
        "csm": (Duty.ADOPTION,),
    }
    day10 = ownership(B, CLOSED + timedelta(days=10))
    assert day10.phase == Phase.HANDOFF and day10.stage == "day 10 of 30: implementation"
    assert day10.part_of("csm").primary and day10.part_of("ae").duties == (Duty.IN_THE_LOOP,)
    assert day10.ends == CLOSED + timedelta(days=31)
    assert ownership(B, CLOSED + timedelta(days=31)).phase == Phase.HEALTH


def test_an_incomplete_packet_keeps_the_ae_owning_it() -> None:
    pending = Facts(CLOSED, B.renewal_date, B.model, "ae", packet_complete=False)
    owns = ownership(pending, CLOSED + timedelta(days=45))
    assert owns.phase == Phase.HANDOFF and "gate is closed" in owns.stage
    assert owns.part_of("ae").primary and not owns.part_of("csm").primary


@pytest.mark.parametrize(
    ("day", "phase", "primary"),
    [
        (date(2027, 3, 1), Phase.HEALTH, {"csm"}),
        (date(2027, 7, 3), Phase.HEALTH, {"csm"}),
        (date(2027, 7, 4), Phase.CO_OWN, {"csm", "ae"}),
        (date(2027, 10, 3), Phase.CO_OWN, {"csm", "ae"}),
        (date(2027, 10, 4), Phase.CLOSE, {"ae"}),
        (date(2028, 1, 4), Phase.CLOSE, {"ae"}),
    ],
)
def test_the_renewal_year_shifts_ownership_by_phase(day: date, phase: Phase, primary: set) -> None:
    owns = ownership(B, day)
    assert owns.phase == phase
    assert {p.role for p in owns.parts if p.primary} == primary
    assert "Model B" in owns.why


def test_under_model_a_the_csm_holds_every_duty() -> None:
    owns = ownership(A, date(2027, 11, 1))
    assert [p.role for p in owns.parts] == ["csm"]
    assert set(owns.parts[0].duties) == {Duty.PRIMARY, Duty.COMMERCIAL, Duty.ADOPTION}


def test_a_tiered_account_names_its_side_of_the_threshold() -> None:
    above = Facts(CLOSED, B.renewal_date, RetentionModel.TIERED, "ae", True)
    assert "at or above the threshold" in ownership(above, date(2027, 8, 1)).why


def test_a_renewal_date_passed_without_an_outcome_says_so() -> None:
    assert "passed with no outcome" in ownership(B, date(2028, 1, 10)).stage


def test_after_a_renewal_the_hand_back_runs_until_the_call_is_held() -> None:
    renewed = Facts(CLOSED, date(2029, 1, 4), B.model, "ae", True, renewed_on=date(2027, 11, 20))
    owns = ownership(renewed, date(2027, 12, 1))
    assert owns.phase == Phase.HAND_BACK
    assert owns.part_of("csm").primary and owns.part_of("ae").duties == (Duty.COMMERCIAL,)
    held = Facts(**{**renewed.__dict__, "hand_back_held": True})
    assert ownership(held, date(2027, 12, 1)).phase == Phase.HEALTH
    assert ownership(renewed, date(2028, 2, 10)).phase == Phase.HEALTH  # 30 days on


def test_a_churned_account_has_no_owner() -> None:
    churned = Facts(**{**B.__dict__, "churned_on": date(2027, 5, 1)})
    assert ownership(churned, date(2027, 5, 1)).parts == ()
    assert ownership(churned, date(2027, 4, 30)).phase == Phase.HEALTH


def test_changes_lists_only_the_days_ownership_changes_hands() -> None:
    found = changes(B, CLOSED + timedelta(days=5), CLOSED + timedelta(days=11))
    assert [d for d, _ in found] == [CLOSED + timedelta(days=8)]
    assert changes(B, date(2027, 3, 1), date(2027, 3, 7)) == []
    assert [o.phase for _d, o in changes(B, date(2027, 7, 1), date(2027, 7, 7))] == [Phase.CO_OWN]


TODAY = date(2026, 11, 23)


def test_cover_reads_people_dates_and_the_early_end() -> None:
    assert parse_cover("<@U0AAA111|chen> with <@U0BBB222|sam> until 2026-12-04", TODAY) == Cover(
        "U0AAA111", "U0BBB222", date(2026, 12, 4)
    )
    assert parse_cover("<@U0AAA111> with <@U0BBB222> until Jan 5", TODAY).until == date(2027, 1, 5)
    assert parse_cover("<@U0AAA111> off", TODAY) == EndCover("U0AAA111")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "Who is away"),
        ("chen with sam until 2026-12-04", "@mention"),
        ("<@U0AAA111> with sam until 2026-12-04", "backup as an @mention"),
        ("<@U0AAA111> with <@U0AAA111> until 2026-12-04", "cannot cover for themselves"),
        ("<@U0AAA111> with <@U0BBB222> until someday", "not a date"),
        ("<@U0AAA111> with <@U0BBB222> until 2026-11-01", "already passed"),
        ("<@U0AAA111> with <@U0BBB222> until 2028-12-01", "a year at most"),
        ("<@U0AAA111> and <@U0BBB222>", "I read that as"),
    ],
)
def test_cover_mistakes_get_a_sentence(text: str, fragment: str) -> None:
    answer = parse_cover(text, TODAY)
    assert isinstance(answer, str) and fragment in answer


def test_assign_history_and_days() -> None:
    assert parse_assign("acme robotics CSM <@U0BBB222|sam>") == Assign(
        "acme robotics", "csm", "U0BBB222"
    )
    assert "not a role" in parse_assign("acme boss <@U0BBB222>")
    assert "@mention" in parse_assign("acme csm sam")
    assert parse_history("acme on 3 Mar", TODAY) == HistoryArgs("acme", date(2026, 3, 3))
    assert parse_history("acme 2027-03-03", TODAY) == HistoryArgs("acme", date(2027, 3, 3))
    assert parse_history("acme corp", TODAY) == HistoryArgs("acme corp", None)
    assert "not a real date" in parse_history("acme 2027-02-30", TODAY)
    assert parse_days("") == 90 and parse_days("30") == 30 and parse_days("45d") == 45
    assert "from 1 to" in parse_days("0") and "from 1 to" in parse_days("lots")
    assert parse_day("29 Feb", date(2026, 3, 1)) == date(2028, 2, 29)
