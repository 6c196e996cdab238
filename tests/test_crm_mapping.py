"""The CRM mapping file and the CRM values it reads: checked at start, one sentence when bad."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.platform.settings import ConfigError, load_settings
from flows.crm.mapping import DEFAULT_PATH, MappingError, Source, load_mapping
from flows.crm.values import amount_text, day_text, instant_text
from flows.intake import ClosedWon, parse_closed_won

TODAY = date(2027, 1, 10)


@pytest.mark.parametrize(
    ("given_", "wanted", "code"),
    [
        ("$1,200.50", "1200.50", None),
        ("EUR 1.200,50", "1200.50", "EUR"),
        ("99.99 GBP", "99.99", "GBP"),
        ("1200.5", "1200.5", None),
        ("1.200", "1.200", None),  # a lone point is a decimal point, as APIs write it
        ("1,200", "1200", None),
        ("1.200.000", "1200000", None),
        ("1 200,50", "1200.50", None),
        ("€ 99", "99", None),
    ],
)
def test_amounts_as_crms_write_them(given_: str, wanted: str, code: str | None) -> None:
    assert amount_text(given_) == (wanted, code)


@pytest.mark.parametrize("given_", ["abc", "-5", "1,2,3", "USD", "", "1e400", "NaN", "12..3"])
def test_what_is_not_clearly_an_amount_is_passed_on_for_the_intake_to_refuse(given_: str) -> None:
    value, code = amount_text(given_)
    assert value == given_ and code is None
    body = {"crm_id": "1", "account_name": "A", "ae_email": "a@x.io", "csm_email": "c@x.io"}
    errors = parse_closed_won(body | {"arr": value}, TODAY)
    assert given_ == "" or [e.field for e in errors] == ["arr"]


@pytest.mark.parametrize(
    ("given_", "wanted"),
    [
        ("2027-01-31", "2027-01-31"),
        ("2027-01-31T17:04:22.123Z", "2027-01-31"),
        ("2027-01-31 10:00", "2027-01-31"),
        ("1801353600000", "2027-01-31"),  # HubSpot's midnight UTC in milliseconds
        (1801353600000, "2027-01-31"),
        ("01/31/2027", "2027-01-31"),
        ("1/5/2027", "2027-01-05"),
    ],
)
def test_days_as_crms_write_them(given_: object, wanted: str) -> None:
    assert day_text(given_) == wanted


def test_a_day_first_export_reads_slashed_dates_day_first() -> None:
    assert day_text("05/01/2027", day_first=True) == "2027-01-05"
    assert day_text("31/01/2027") == "31/01/2027"  # no 31st month: passed on, and refused


def test_milliseconds_are_an_instant_in_utc() -> None:
    assert instant_text("1801353600000") == "2027-01-31T00:00:00Z"
    assert instant_text("99999999999999999999") == "99999999999999999999"


@given(st.text(max_size=80))
def test_no_text_makes_a_value_reader_raise(text: str) -> None:
    amount_text(text)
    day_text(text)
    day_text(text, day_first=True)
    instant_text(text)


def test_the_default_mapping_reads_a_hubspot_deal() -> None:
    hubspot = load_mapping().hubspot
    properties = {
        "hs_object_id": "9001",
        "dealname": "Acme renewal",
        "amount": "48000.5",
        "closedate": "2027-01-08T15:00:00.000Z",
        "dealstage": "closedwon",
        "hubspot_owner_id": "111",
        "csm_owner": "222",
        "hs_lastmodifieddate": "2027-01-08T15:01:02.345Z",
    }
    owners = {"111": "ae@acme.test", "222": "csm@acme.test"}

    def resolve(source: Source) -> object:
        if source.kind == "owner":
            return owners.get(properties.get(source.name, ""))
        if source.kind == "company":
            return "Acme Robotics"
        return properties.get(source.name)

    body = hubspot.body(resolve, {"portal_id": "62515"})
    assert hubspot.is_closed_won(properties)
    deal = parse_closed_won(body, TODAY)
    assert isinstance(deal, ClosedWon)
    assert (deal.crm_id, deal.account_name, deal.arr) == (
        "9001",
        "Acme Robotics",
        Decimal("48000.50"),
    )
    assert (deal.ae_email, deal.csm_email) == ("ae@acme.test", "csm@acme.test")
    assert deal.contract_start == date(2027, 1, 8)
    assert deal.renewal_date == date(2028, 1, 8)  # no renewal date: close date + 12 months
    assert deal.crm_url == "https://app.hubspot.com/contacts/62515/record/0-3/9001"
    assert not hubspot.is_closed_won({"dealstage": "contractsent"})


def test_a_missing_owner_email_is_the_intakes_one_error() -> None:
    hubspot = load_mapping().hubspot
    properties = {"hs_object_id": "1", "dealname": "A", "dealstage": "closedwon"}
    body = hubspot.body(lambda s: properties.get(s.name) if s.kind == "property" else None)
    errors = parse_closed_won(body, TODAY)
    assert [e.field for e in errors] == ["ae_email", "csm_email"]


def test_a_mapping_of_ones_own_changes_only_what_it_sets(tmp_path: Path) -> None:
    mine = tmp_path / "mapping.toml"
    mine.write_text(
        '[hubspot.fields]\nrenewal_date = "contract_end"\ncurrency = ""\n'
        '[hubspot.closed_won]\nvalues = ["closedwon", "12345678"]\n'
        '[salesforce.fields]\nrenewal_date = "Renewal_Date__c"\n'
    )
    mapping = load_mapping(mine)
    assert mapping.hubspot.fields["renewal_date"] == (Source("property", "contract_end"),)
    assert "currency" not in mapping.hubspot.fields
    assert mapping.hubspot.fields["arr"] == (Source("property", "amount"),)
    assert mapping.hubspot.is_closed_won({"dealstage": "12345678"})
    assert "Renewal_Date__c" in mapping.salesforce.properties()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[hubspot.fields]\nar = 'amount'\n", "hubspot.fields.ar is not a Baton field"),
        ("[hubspot.fields]\ncrm_id = ''\n", "hubspot.fields.crm_id is required"),
        ("[hubspot.fields]\narr = 5\n", "hubspot.fields.arr must be a name"),
        ("[hubspot.fields]\narr = 'amount; drop'\n", "is not a HubSpot property name"),
        ("[salesforce.fields]\narr = 'Amount) OR (1=1'\n", "is not a Salesforce property name"),
        ("[salesforce.fields]\nae_email = 'owner:Id'\n", "owner: is not a source salesforce has"),
        ("[hubspot.fields]\naccount_name = 'company:domain'\n", "company's name only"),
        ("[hubspot]\nterm_months = 0\n", "term_months must be a whole number"),
        ("[hubspot]\nday_first = 'yes'\n", "day_first must be true or false"),
        ("[hubspot]\ncrm_url = 'javascript:alert(1)'\n", "crm_url must be an https link"),
        ("[hubspot]\nstages = []\n", "hubspot.stages is not a mapping key"),
        ("[hubspot.closed_won]\nvalues = []\n", "closed_won.values must be a list"),
        ("[pipedrive]\n", "pipedrive is not a CRM Baton knows"),
        ("[hubspot\n", "is not valid TOML"),
    ],
)
def test_a_bad_mapping_is_one_sentence_naming_file_key_and_fix(
    tmp_path: Path, text: str, says: str
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(MappingError) as refused:
        load_mapping(bad)
    message = str(refused.value)
    assert message.startswith(str(bad)) and says in message
    assert message.endswith(".") and "\n" not in message


def test_baton_will_not_start_with_a_bad_mapping(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[hubspot.fields]\nar = 'amount'\n")
    with pytest.raises(ConfigError) as refused:
        load_settings(None, baton_crm_mapping=str(bad))
    assert str(refused.value).startswith(f"BATON_CRM_MAPPING {bad}: hubspot.fields.ar")
    with pytest.raises(ConfigError, match="no such file"):
        load_settings(None, baton_crm_mapping=str(tmp_path / "missing.toml"))


def test_the_default_mapping_is_shipped_and_valid() -> None:
    assert DEFAULT_PATH.is_file()
    assert load_settings(None).crm_mapping.path == str(DEFAULT_PATH)


def test_an_export_header_picks_its_layout() -> None:
    mapping = load_mapping()
    hubspot = mapping.import_layout(
        ["Record ID", "Deal Name", "Amount", "Close Date", "DEAL OWNER EMAIL", "CSM email"]
    )
    assert not isinstance(hubspot, str) and hubspot.name == "hubspot"
    assert hubspot.column("ae_email") == "DEAL OWNER EMAIL"
    row = {
        "Record ID": "77",
        "Deal Name": "Globex",
        "Amount": "$12,000",
        "Close Date": "06/30/2026",
        "DEAL OWNER EMAIL": "ae@globex.test",
        "CSM email": "csm@globex.test",
    }
    deal = parse_closed_won(hubspot.body(row), TODAY)
    assert isinstance(deal, ClosedWon)
    assert (deal.arr, deal.contract_start, deal.renewal_date) == (
        Decimal("12000.00"),
        date(2026, 6, 30),
        date(2027, 6, 30),
    )
    own = mapping.import_layout(["\ufeffcrm_id", "account_name", "ae_email", "csm_email"])
    assert not isinstance(own, str) and own.name == "baton"
    nothing = mapping.import_layout(["Name", "Email"])
    assert isinstance(nothing, str) and "matches no layout" in nothing
