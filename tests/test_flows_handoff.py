from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from flows.channel_names import MAX_LENGTH, channel_name, slug
from flows.dates import add_months
from flows.gate import business_days_between, escalation_time, kickoff_deadline, next_reminder
from flows.handoff import current_stage
from flows.intake import ClosedWon, FieldError, parse_closed_won
from flows.packet import Part, changes, is_complete, problems
from flows.retention import RetentionModel, suggested_model

TODAY = date(2027, 1, 4)
VALID = {
    "crm_id": "D-1",
    "account_name": "Acme Robotics",
    "arr": 80000,
    "ae_email": "Ana@Example.com",
    "csm_email": "chen@example.com",
}


def errors_of(body) -> dict[str, str]:
    result = parse_closed_won(body, TODAY)
    assert isinstance(result, list), result
    return {e.field: e.message for e in result}


def test_minimal_deal_gets_sensible_defaults() -> None:
    deal = parse_closed_won(VALID, TODAY)
    assert isinstance(deal, ClosedWon)
    assert deal.contract_start == TODAY and deal.renewal_date == date(2028, 1, 4)
    assert deal.arr == Decimal("80000.00") and deal.currency == "USD"
    assert deal.ae_email == "ana@example.com"
    assert deal.emails() == {"ae": "ana@example.com", "csm": "chen@example.com"}


def test_every_problem_is_reported_at_once() -> None:
    found = errors_of(
        {
            "arr": -5,
            "renewal_date": "31/01/2027",
            "ae_email": "nope",
            "term_months": 0,
            "currency": "dollars",
            "crm_url": "ftp://x",
        }
    )
    assert set(found) == {
        "crm_id",
        "account_name",
        "arr",
        "renewal_date",
        "ae_email",
        "csm_email",
        "term_months",
        "currency",
        "crm_url",
    }
    assert all(message.endswith(".") for message in found.values())


@pytest.mark.parametrize("body", [[], "x", None, 3])
def test_non_objects_are_refused(body) -> None:
    assert parse_closed_won(body, TODAY) == [FieldError("body", "must be a JSON object.")]


def test_renewal_must_follow_start_and_people_must_differ() -> None:
    found = errors_of(
        {
            **VALID,
            "contract_start": "2027-02-01",
            "renewal_date": "2027-02-01",
            "csm_email": "ana@example.com",
        }
    )
    assert set(found) == {"renewal_date", "csm_email"}


@pytest.mark.parametrize("arr", [True, "abc", "NaN", "Infinity", {"x": 1}])
def test_arr_must_be_a_plain_number(arr) -> None:
    assert "arr" in errors_of({**VALID, "arr": arr})


def test_term_and_feb_29() -> None:
    deal = parse_closed_won({**VALID, "contract_start": "2028-02-29", "term_months": "24"}, TODAY)
    assert isinstance(deal, ClosedWon) and deal.renewal_date == date(2030, 2, 28)
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Acme Robotics", "acct-acme-robotics"),
        ("  Café Müller & Söhne GmbH. ", "acct-cafe-muller-sohne-gmbh"),
        ("ACME!!!", "acct-acme"),
        ("株式会社", "acct-d-42"),
        ("x" * 200, "acct-" + "x" * 75),
    ],
)
def test_channel_names_follow_slacks_rules(name: str, expected: str) -> None:
    result = channel_name(name, "D-42")
    assert result == expected
    assert len(result) <= MAX_LENGTH and result == result.lower()
    assert " " not in result and "." not in result


def test_collision_suffix_keeps_the_limit() -> None:
    assert channel_name("Acme", "D-1", attempt=2) == "acct-acme-2"
    long = channel_name("y" * 200, "D-1", attempt=12)
    assert long.endswith("-12") and len(long) == MAX_LENGTH
    assert slug("--") == ""


def test_retention_model_suggestion() -> None:
    threshold = Decimal(75000)
    assert suggested_model(Decimal(74999.99), threshold) == RetentionModel.CLEAN_HANDOFF
    assert suggested_model(Decimal(75000), threshold) == RetentionModel.AE_RETAINS


def test_handoff_stages() -> None:
    closed = date(2027, 1, 4)
    assert current_stage(closed, closed).owner == "AE"
    assert current_stage(closed, date(2027, 1, 11)).title == "Days 1–7"
    assert current_stage(closed, date(2027, 1, 12)).title == "Days 8–30"
    assert current_stage(closed, date(2027, 2, 3)).title == "Days 8–30"
    assert current_stage(closed, date(2027, 2, 4)).owner == "CSM"


COMPLETE_AE = {
    "goal": "g",
    "objections": "o",
    "competitors": "c",
    "success_metric": "m",
    "champion": "ch",
    "economic_buyer": "eb",
    "daily_users": "du",
    "skeptics": "s",
    "month6_risks": "r",
    "retention_model": "A",
}


def test_packet_completeness_and_marketing_setting() -> None:
    assert problems(COMPLETE_AE, Part.AE) == {}
    assert not is_complete(COMPLETE_AE, marketing_required=True)
    assert is_complete(COMPLETE_AE, marketing_required=False)
    assert is_complete({**COMPLETE_AE, "marketing": "webinar"}, marketing_required=True)
    missing = problems({**COMPLETE_AE, "goal": "  "}, Part.AE)
    assert set(missing) == {"goal"}


def test_icp_exception_needs_a_reason_and_model_must_be_known() -> None:
    found = problems({**COMPLETE_AE, "icp_exception": True, "retention_model": "Z"}, Part.AE)
    assert set(found) == {"icp_reason", "retention_model"}


def test_changes_lists_only_differences() -> None:
    assert changes({"goal": "a", "skeptics": None}, {"goal": "b", "skeptics": ""}) == {
        "goal": ["a", "b"]
    }


NY = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_gate_reminders_are_business_mornings_after_the_close() -> None:
    closed = utc(2027, 1, 4, 15)  # Monday 10:00 New York
    assert next_reminder(closed, closed, NY) == utc(2027, 1, 5, 14)
    assert next_reminder(closed, utc(2027, 1, 5, 14, 1), NY) == utc(2027, 1, 6, 14)
    friday = utc(2027, 1, 8, 15)
    assert next_reminder(friday, friday, NY) == utc(2027, 1, 11, 14)
    # Closed at 08:00 local: the same morning's 09:00 is already "after the close".
    early = utc(2027, 1, 4, 13)
    assert next_reminder(early, early, NY) == utc(2027, 1, 4, 14)


def test_manager_is_told_after_two_full_business_days() -> None:
    assert escalation_time(utc(2027, 1, 4, 15), NY) == utc(2027, 1, 7, 14)  # Mon → Thu
    assert escalation_time(utc(2027, 1, 8, 15), NY) == utc(2027, 1, 13, 14)  # Fri → Wed
    assert kickoff_deadline(utc(2027, 1, 4, 15), NY) == utc(2027, 1, 11, 14)
    assert kickoff_deadline(utc(2027, 1, 2, 15), NY) == utc(2027, 1, 11, 14)  # day 7 is a Saturday
    assert business_days_between(utc(2027, 1, 8, 15), utc(2027, 1, 12, 15), NY) == 2
