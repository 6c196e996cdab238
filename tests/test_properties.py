"""Properties of every pure parser, for any input: it answers with its documented result
types (never an exception), what it accepts is within Baton's bounds, and what it refuses
it says in one sentence.

The input strategies (`tests/nasty.py`) mix random Unicode with the values parsers get
wrong: NUL, lone surrogates, RTL marks, `²`, 5,000-digit numbers, `1e400`, `NaN`, dates
at the ends of the calendar, Slack's own mention tokens.
"""

from __future__ import annotations

import string
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import example, given
from hypothesis import strategies as st

from bot.platform.kit import clip, esc, slash_text, unesc
from bot.platform.slash import split_subcommand
from bot.sandbox.driver import as_slack_sends
from flows import checkins, packet
from flows.health import flag_problems
from flows.intake import ClosedWon, FieldError, parse_closed_won
from flows.outcomes import RenewedArgs, parse_renewed, renewal_problems
from flows.ownership_args import (
    BARE_USER_ID,
    MAX_COVER_DAYS,
    MAX_RENEWAL_DAYS,
    ROLES,
    Assign,
    Cover,
    EndCover,
    HistoryArgs,
    mentioned_user,
    parse_assign,
    parse_cover,
    parse_day,
    parse_days,
    parse_history,
)
from tests.nasty import (
    EARLIEST,
    LATEST,
    NASTY_STRINGS,
    days,
    fits_numeric_14_2,
    hostile_text,
    in_bounds,
    json_values,
    one_sentence,
    realistic_today,
    storable,
)

USER_IDS = st.from_regex(r"\A[UW][A-Z0-9]{8,10}\Z")
MENTIONS = st.builds(
    lambda uid, name: f"<@{uid}|{name}>" if name else f"<@{uid}>",
    USER_IDS,
    st.text(alphabet=string.ascii_lowercase + ".-", max_size=10),
)


# --- the closed-won webhook body (flows/intake) --------------------------------------------
DEAL_KEYS = (
    "crm_id",
    "account_name",
    "arr",
    "contract_start",
    "renewal_date",
    "term_months",
    "ae_email",
    "csm_email",
    "am_email",
    "manager_email",
    "champion_email",
    "crm_url",
    "segment",
    "currency",
    "updated_at",
    "team_id",
)
VALID_DEAL = {
    "crm_id": "D-1",
    "account_name": "Acme",
    "ae_email": "ana@example.test",
    "csm_email": "chen@example.test",
}
DATE_TEXT = st.one_of(days().map(date.isoformat), st.sampled_from(NASTY_STRINGS))
FIELD_VALUES = st.one_of(json_values(6), DATE_TEXT, st.decimals().map(str))


@st.composite
def deal_bodies(draw: st.DrawFn) -> dict:
    """A valid deal with some fields replaced (or added) by hostile values, so the
    interesting fields are reached rather than refused for a missing crm_id."""
    body = dict(VALID_DEAL) if draw(st.booleans()) else {}
    for key in draw(st.lists(st.sampled_from(DEAL_KEYS), max_size=6, unique=True)):
        body[key] = draw(FIELD_VALUES)
    return body


def _deal(body: object, today: date) -> ClosedWon | list[FieldError]:
    result = parse_closed_won(body, today)
    assert isinstance(result, ClosedWon | list)
    return result


@given(json_values(), realistic_today())
def test_closed_won_answers_any_json_with_a_deal_or_field_errors(body, today) -> None:
    result = _deal(body, today)
    if isinstance(result, list):
        assert result and all(isinstance(e, FieldError) for e in result)


@given(deal_bodies(), realistic_today())
@example({**VALID_DEAL, "term_months": "²"}, date(2027, 1, 4))
@example({**VALID_DEAL, "arr": "1e400"}, date(2027, 1, 4))
@example({**VALID_DEAL, "contract_start": "9999-12-31"}, date(2027, 1, 4))
def test_closed_won_never_raises_on_hostile_fields(body, today) -> None:
    _deal(body, today)


@given(deal_bodies(), realistic_today())
def test_closed_won_field_errors_are_one_sentence(body, today) -> None:
    result = _deal(body, today)
    if isinstance(result, list):
        for error in result:
            # The webhook answers `{field} {message}`; /baton new shows the same message.
            assert one_sentence(f"{error.field} {error.message}"), error


@given(deal_bodies(), realistic_today())
@example({**VALID_DEAL, "contract_start": "0001-01-01"}, date(2027, 1, 4))
@example({**VALID_DEAL, "renewal_date": "9999-12-31"}, date(2027, 1, 4))
def test_closed_won_dates_are_within_bounds(body, today) -> None:
    result = _deal(body, today)
    if isinstance(result, ClosedWon):
        assert in_bounds(result.contract_start), result.contract_start
        assert in_bounds(result.renewal_date), result.renewal_date


@given(deal_bodies(), realistic_today())
@example({**VALID_DEAL, "arr": 10**20}, date(2027, 1, 4))
def test_closed_won_arr_fits_numeric_14_2(body, today) -> None:
    result = _deal(body, today)
    if isinstance(result, ClosedWon):
        assert fits_numeric_14_2(result.arr), result.arr


@given(deal_bodies(), realistic_today())
@example({**VALID_DEAL, "account_name": "Acme\x00"}, date(2027, 1, 4))
@example({**VALID_DEAL, "segment": "\ud800"}, date(2027, 1, 4))
def test_closed_won_accepts_only_text_every_database_stores(body, today) -> None:
    result = _deal(body, today)
    if isinstance(result, ClosedWon):
        for value in (result.crm_id, result.account_name, result.segment, result.crm_url):
            assert value is None or storable(value), repr(value)


# --- people, days and day counts (flows/ownership_args) -------------------------------------
@given(hostile_text())
def test_mentioned_user_is_a_user_id_or_none(word) -> None:
    found = mentioned_user(word)
    assert found is None or (isinstance(found, str) and found[0] in "UW" and found.isalnum())


@given(USER_IDS, st.text(alphabet=string.ascii_letters + " .-", max_size=12))
def test_a_picked_mention_gives_its_user_id(user_id, name) -> None:
    assert mentioned_user(f"<@{user_id}|{name}>") == user_id
    assert mentioned_user(f"<@{user_id}>") == user_id
    assert mentioned_user(user_id) == user_id


@given(hostile_text(), realistic_today(), st.booleans())
@example("31 Dec 9999", date(2027, 1, 4), False)
@example("1 Jan 0001", date(2027, 1, 4), True)
def test_parse_day_reads_a_calendar_day_or_nothing(text, today, past) -> None:
    """Any calendar day it can read (its callers bound it: see the cover and history
    properties, which must give a day Baton keeps or a sentence)."""
    day = parse_day(text, today, past=past)
    assert day is None or isinstance(day, date), day


@given(st.one_of(hostile_text(), st.integers(-5, 5000).map(str)))
@example("²")
@example("9" * 5000)
@example("３０")
def test_parse_days_is_a_window_or_one_sentence(text) -> None:
    result = parse_days(text)
    if isinstance(result, str):
        assert one_sentence(result), result
    else:
        assert isinstance(result, int) and 1 <= result <= MAX_RENEWAL_DAYS


COVER_TEXT = st.one_of(
    hostile_text(),
    st.builds(
        lambda a, b, when: f"{a} with {b} until {when}",
        st.one_of(MENTIONS, hostile_text(12)),
        st.one_of(MENTIONS, hostile_text(12)),
        st.one_of(DATE_TEXT, hostile_text(12)),
    ),
    st.builds(lambda a, w: f"{a} {w}", MENTIONS, st.sampled_from(["off", "end", "stop", "Off"])),
)


@given(COVER_TEXT, realistic_today())
@example("<@U0AAAAAA1> with <@U0AAAAAA2> until 9999-12-31", date(2027, 1, 4))
def test_parse_cover_reads_a_bounded_window_or_says_why_not(text, today) -> None:
    result = parse_cover(text, today)
    if isinstance(result, str):
        assert one_sentence(result), result
    elif isinstance(result, Cover):
        assert BARE_USER_ID.match(result.user) or result.user[0] in "UW"
        assert result.backup != result.user
        assert today <= result.until <= today + timedelta(days=MAX_COVER_DAYS)
        assert in_bounds(result.until)
    else:
        assert isinstance(result, EndCover)


ASSIGN_TEXT = st.one_of(
    hostile_text(),
    st.builds(
        lambda account, role, who: f"{account} {role} {who}",
        hostile_text(20),
        st.one_of(st.sampled_from(["ae", "CSM", "am", "manager", "²"]), hostile_text(6)),
        st.one_of(MENTIONS, hostile_text(12)),
    ),
)


@given(ASSIGN_TEXT)
def test_parse_assign_reads_a_role_and_a_person_or_says_why_not(text) -> None:
    result = parse_assign(text)
    if isinstance(result, str):
        assert one_sentence(result), result
    else:
        assert isinstance(result, Assign)
        assert result.role in ROLES and result.user[0] in "UW"


HISTORY_TEXT = st.one_of(
    hostile_text(),
    st.builds(lambda a, d: f"{a} on {d}", hostile_text(20), st.one_of(DATE_TEXT, hostile_text(8))),
    st.builds(lambda a, d: f"{a} {d}", hostile_text(20), DATE_TEXT),
)


@given(HISTORY_TEXT, realistic_today())
@example("acme on 9999-12-31", date(2027, 1, 4))
@example("acme 0001-01-01", date(2027, 1, 4))
def test_parse_history_reads_a_day_within_bounds_or_says_why_not(text, today) -> None:
    result = parse_history(text, today)
    if isinstance(result, str):
        assert one_sentence(result), result
    else:
        assert isinstance(result, HistoryArgs)
        assert result.on is None or in_bounds(result.on), result.on


# --- /baton renewed and renewal dates (flows/outcomes) --------------------------------------
AMOUNT_TEXT = st.one_of(
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.from_regex(r"\A\$?\d[\d,_]{0,20}(\.\d{1,2})?[kKmM]?\Z"),
    st.sampled_from(NASTY_STRINGS),
)
RENEWED_TEXT = st.one_of(
    hostile_text(),
    st.builds(
        lambda account, when, arr: " ".join(p for p in (account, when, arr) if p),
        hostile_text(20),
        st.one_of(st.just(""), DATE_TEXT),
        st.one_of(st.just(""), AMOUNT_TEXT),
    ),
)


@given(RENEWED_TEXT)
@example("acme 9999-12-31")
@example("acme 0001-01-01 120k")
def test_parse_renewed_reads_bounded_values_or_says_why_not(text) -> None:
    result = parse_renewed(text)
    if isinstance(result, str):
        assert one_sentence(result), result
        return
    assert isinstance(result, RenewedArgs) and result.account
    assert result.new_date is None or in_bounds(result.new_date), result.new_date
    assert result.new_arr is None or fits_numeric_14_2(result.new_arr), result.new_arr


@given(RENEWED_TEXT)
@example("acme " + "9" * 5000)
def test_parse_renewed_errors_stay_short(text) -> None:
    """An error echoes what was typed, clipped: never a wall of text back at the person."""
    result = parse_renewed(text)
    if isinstance(result, str):
        assert len(result) <= 300, len(result)


BOUNDED_DAYS = st.dates(min_value=EARLIEST, max_value=LATEST)


@given(BOUNDED_DAYS, BOUNDED_DAYS, realistic_today())
def test_renewal_problems_is_none_or_one_sentence(current, new_date, today) -> None:
    problem = renewal_problems(current, new_date, today)
    assert problem is None or one_sentence(problem), problem
    if problem is None:
        assert current < new_date and today < new_date


# --- the packet, check-ins and the health flag ----------------------------------------------
ANSWERS = st.dictionaries(
    st.one_of(st.sampled_from([f.key for f in packet.FIELDS]), st.text(max_size=6)),
    json_values(4),
    max_size=10,
)


@given(ANSWERS, st.sampled_from(list(packet.Part)))
@example({"retention_model": ["A"]}, packet.Part.AE)
def test_packet_problems_names_known_fields_in_one_sentence(answers, part) -> None:
    found = packet.problems(answers, part)
    assert isinstance(found, dict)
    for key, message in found.items():
        assert key in packet.BY_KEY and one_sentence(message), (key, message)


CHECKIN_VALUES = st.fixed_dictionaries(
    {},
    optional={
        "checkin_date": st.one_of(st.none(), DATE_TEXT),
        "summary": st.one_of(st.none(), hostile_text()),
        "sentiment": st.one_of(
            st.none(), st.sampled_from(["positive", "neutral", "concerned"]), hostile_text(8)
        ),
        "mismatch": st.booleans(),
        "promised": st.one_of(st.none(), hostile_text()),
        "next_steps": st.one_of(st.none(), hostile_text()),
        "first_value": st.booleans(),
    },
)


@given(CHECKIN_VALUES, realistic_today())
@example({"checkin_date": "0001-01-01", "summary": "ok", "sentiment": "neutral"}, date(2027, 1, 4))
def test_checkin_problems_in_one_sentence_and_the_date_within_bounds(values, today) -> None:
    """`values` as `read_checkin` hands them over (text or None, flags as booleans)."""
    found = checkins.problems(values, today)
    for message in found.values():
        assert one_sentence(message), message
    if "checkin_date" not in found:
        assert in_bounds(date.fromisoformat(str(values["checkin_date"])))


@given(st.one_of(st.none(), hostile_text(8)), hostile_text())
def test_flag_problems_in_one_sentence(health, risks) -> None:
    for message in flag_problems(health, risks).values():
        assert one_sentence(message), message


# --- slash text, escaping and clipping (bot/blocks/kit, the /baton dispatcher) --------------
@given(st.text())
def test_unesc_inverts_esc(text) -> None:
    escaped = esc(text)
    assert "<" not in escaped and ">" not in escaped
    assert unesc(escaped) == text


TYPED = st.lists(st.one_of(hostile_text(), MENTIONS), max_size=5).map(" ".join)


@given(TYPED)
@example("AT&T <@U0AAAAAA1|ana> &lt; <b>")
@example("&amp;lt;")
def test_slash_text_of_what_slack_sends_is_what_was_typed(typed) -> None:
    assert slash_text(as_slack_sends(typed)) == typed


@given(st.text(), st.integers(min_value=1, max_value=60))
@example("&" * 10, 5)
@example("a&b<c>" * 5, 7)
def test_clip_stays_within_its_limit_and_never_cuts_an_entity(text, limit) -> None:
    escaped = esc(text)
    clipped = clip(escaped, limit)
    assert len(clipped) <= limit
    if clipped == escaped:
        return
    assert clipped.endswith("…")
    kept = clipped[:-1]
    assert escaped.startswith(kept)
    # Every `&` kept is a whole entity: unescaping and escaping again gives it back.
    assert esc(unesc(kept)) == kept


@given(hostile_text(80))
def test_split_subcommand_reads_a_lowercase_word_and_the_rest(text) -> None:
    name, rest = split_subcommand(text)
    assert isinstance(name, str) and isinstance(rest, str)
    assert not any(ch.isspace() for ch in name)
    if text.split():
        assert name == text.split()[0].lower()
        assert " ".join([text.split()[0], *rest.split()]) == " ".join(text.split())
    else:
        assert (name, rest) == ("help", "")


def test_the_bounds_are_the_documented_ones() -> None:
    """The strategies' bounds are the ones the issue names, so the properties can fail."""
    assert (date(1970, 1, 1), date(2199, 12, 31)) == (EARLIEST, LATEST)
    assert not fits_numeric_14_2(Decimal("1000000000000")) and fits_numeric_14_2(Decimal("0.01"))
    assert not storable("a\x00") and not storable("\ud800") and storable("Ωé🏳️‍🌈")
