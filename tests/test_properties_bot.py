"""Properties of the bot-side readers: modal state, button values and private_metadata.

Slack shapes `view.state.values` and hands back the private_metadata and button values
Baton wrote, but nothing stops a payload from carrying anything: every reader must answer
with its documented result (a value, inline errors, or a Refusal), never an exception.
The readers that need the database run against the real one and the sandbox Slack.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.accounts.load import Refusal, load_account
from bot.checkins import service as checkin_flow
from bot.checkins.blocks import read_checkin
from bot.handoff import packet as packet_flow
from bot.handoff.blocks import MARKETING_VIEW, PACKET_VIEW, read_values
from bot.platform.kit import FIELD_ACTION, submitted
from bot.renewal import flag, outcome
from bot.renewal import service as renewal_flow
from bot.sandbox.state import User
from flows.packet import Kind, Part, fields_of
from storage.models import Account
from tests.helpers import closed_won, deal, row_counts
from tests.nasty import IDS, NASTY_STRINGS, json_values

BLOCK_IDS = st.one_of(
    st.sampled_from(
        [f.key for f in fields_of(Part.AE) + fields_of(Part.MARKETING)]
        + ["checkin_date", "summary", "sentiment", "mismatch", "promised", "next_steps"]
        + ["first_value", "outcome", "health", "risks", "rating", "reason", "effective"]
    ),
    st.text(max_size=6),
)
ELEMENT_KEYS = ("type", "value", "selected_option", "selected_options", "selected_date")
ELEMENTS = st.one_of(
    json_values(6),
    st.dictionaries(st.sampled_from(ELEMENT_KEYS), json_values(4), max_size=4),
    st.fixed_dictionaries(
        {"selected_option": st.dictionaries(st.sampled_from(["value", "text"]), json_values(3))}
    ),
)
STATES = st.one_of(
    json_values(6),
    st.dictionaries(
        BLOCK_IDS,
        st.one_of(json_values(3), st.dictionaries(st.just(FIELD_ACTION), ELEMENTS, max_size=1)),
        max_size=8,
    ),
)


@given(STATES, st.sampled_from(list(Part)))
@example({"retention_model": {FIELD_ACTION: {"selected_option": "A"}}}, Part.AE)
@example({"goal": "not an element"}, Part.AE)
def test_read_values_gives_packet_answers_for_any_state(state, part) -> None:
    answers = read_values(state, part)
    for item in fields_of(part):
        value = answers[item.key]
        if item.kind == Kind.FLAG:
            assert isinstance(value, bool)
        else:
            assert value is None or isinstance(value, str), (item.key, value)


@given(STATES)
@example({"sentiment": {FIELD_ACTION: {"selected_option": ["neutral"]}}})
def test_read_checkin_gives_checkin_values_for_any_state(state) -> None:
    values = read_checkin(state)
    assert isinstance(values["mismatch"], bool) and isinstance(values["first_value"], bool)
    for key in ("summary", "promised", "next_steps", "sentiment"):
        assert values[key] is None or isinstance(values[key], str), (key, values[key])
    assert values["checkin_date"] is None or isinstance(values["checkin_date"], str)


@given(json_values(8), BLOCK_IDS, st.sampled_from(["value", "selected_option", "selected_date"]))
@example({"state": []}, "summary", "value")
@example({"state": {"values": {"summary": []}}}, "summary", "value")
def test_submitted_reads_any_view(view, block_id, key) -> None:
    if isinstance(view, dict):
        submitted(view, block_id, key)


# --- against the real database and the sandbox Slack --------------------------------------
# One bot and one account serve every example: the readers under test write nothing when
# they refuse, and the examples check that too.
WITH_THE_BOT = settings(
    max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ACCOUNT_IDS = st.one_of(st.sampled_from(IDS), json_values(3), st.integers())


@pytest.fixture
async def acme(driver, people) -> int:  # noqa: ANN001
    reply = await closed_won(driver, deal())
    assert reply.status == 202, reply.text
    return reply.json["account_id"]


@WITH_THE_BOT
@given(account_id=ACCOUNT_IDS)
@example(account_id=2**63)
@example(account_id=2**31)
@example(account_id=float("inf"))
@example(account_id="9" * 5000)
async def test_load_account_is_an_account_or_a_refusal(bot, sandbox, acme, account_id) -> None:
    try:
        account = await load_account(bot.services, sandbox.workspace.team_id, account_id)
    except Refusal:
        return
    assert isinstance(account, Account) and account.team_id == sandbox.workspace.team_id


def _metadata_texts() -> st.SearchStrategy[str]:
    keys = st.sampled_from(["account_id", "checkin_id", "milestone_id", "cycle"])
    objects = st.dictionaries(keys, st.one_of(st.sampled_from(IDS), json_values(3)), max_size=3)
    return st.one_of(
        objects.map(json.dumps),
        json_values(6).map(json.dumps),
        st.text(max_size=20),
        st.sampled_from([*NASTY_STRINGS[:20], "[" * 10_000 + "]" * 10_000, "1e400", "NaN"]),
    )


# A state that passes each modal's own checks, so the reader reaches private_metadata.
PASSING_STATE: dict[str, dict[str, Any]] = {
    "summary": {FIELD_ACTION: {"type": "plain_text_input", "value": "Went well"}},
    "sentiment": {FIELD_ACTION: {"selected_option": {"value": "neutral"}}},
    "checkin_date": {FIELD_ACTION: {"selected_date": "2020-01-01"}},
    "goal": {FIELD_ACTION: {"type": "plain_text_input", "value": "A goal"}},
    "marketing": {FIELD_ACTION: {"type": "plain_text_input", "value": "A webinar"}},
    "outcome": {FIELD_ACTION: {"type": "plain_text_input", "value": "Done"}},
    "health": {FIELD_ACTION: {"selected_option": {"value": "green"}}},
    "clarification": {FIELD_ACTION: {"type": "plain_text_input", "value": "Agreed"}},
    "rating": {FIELD_ACTION: {"selected_option": {"value": "3"}}},
    "reason": {FIELD_ACTION: {"selected_option": {"value": "economic"}}},
    "effective": {FIELD_ACTION: {"selected_date": "2027-01-04"}},
    "new_date": {FIELD_ACTION: {"selected_date": "2029-01-04"}},
}

# Every reader of private_metadata (grep json.loads in bot/), and what it may answer.
# The outsider may add marketing's part (anyone may), and nothing else.
CHECKS = {
    "packet": (packet_flow.check_submission, PACKET_VIEW, None),
    "marketing": (packet_flow.check_submission, MARKETING_VIEW, packet_flow.Submission),
    "checkin": (checkin_flow.check_checkin, "baton_checkin", None),
    "renewed": (outcome.check_renewed, "baton_renewed_view", None),
}
ACTS = {
    "clarify": checkin_flow.submit_clarify,
    "rating": checkin_flow.submit_rating,
    "done": renewal_flow.submit_done,
    "flag": flag.submit_flag,
    "churned": outcome.submit_churned,
}


def _view(callback_id: str, metadata: str) -> dict[str, Any]:
    return {
        "id": "VHOSTILE",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "state": {"values": PASSING_STATE},
    }


@pytest.fixture
def outsider(sandbox):  # noqa: ANN001, ANN201
    return sandbox.workspace.add_user("mal", "Mallory", "mal@example.test")


@pytest.fixture
def new_outsider(sandbox):  # noqa: ANN001, ANN201
    """Someone else nobody at Baton knows, at each call. Baton DMs a refused submitter,
    and one person's DMs go out at Slack's pace (one a second): an outsider per example
    keeps every example from waiting for the last one's DM."""
    count = itertools.count()

    def make() -> User:
        n = next(count)
        return sandbox.workspace.add_user(f"mal{n}", f"Mallory {n}", f"mal{n}@example.test")

    return make


@WITH_THE_BOT
@given(name=st.sampled_from(sorted(CHECKS)), metadata=_metadata_texts())
@example(name="renewed", metadata="[]")
@example(name="checkin", metadata='{"account_id": 1, "checkin_id": "x"}')
@example(name="packet", metadata='{"account_id": 1e400}')
async def test_a_modal_check_answers_errors_for_any_private_metadata(
    bot, sandbox, acme, outsider, name, metadata
) -> None:
    """An outsider's submission, whatever its private_metadata: inline errors, no rows."""
    check, callback_id, allowed = CHECKS[name]
    before = row_counts(bot.services.engine)
    view = _view(callback_id, metadata)
    result = await check(bot.services, sandbox.workspace.team_id, outsider.id, view)
    if allowed is not None and isinstance(result, allowed):
        return
    assert isinstance(result, dict) and result, result
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())
    assert row_counts(bot.services.engine) == before


@WITH_THE_BOT
@given(name=st.sampled_from(sorted(ACTS)), metadata=_metadata_texts())
@example(name="done", metadata="[]")
@example(name="flag", metadata="not json")
@example(name="clarify", metadata='{"checkin_id": 999}')
@example(name="rating", metadata=json.dumps({"account_id": 1}))
async def test_a_submission_after_its_ack_never_raises_for_any_private_metadata(
    bot, sandbox, acme, new_outsider, name, metadata
) -> None:
    """What runs after the modal closed cannot answer with errors any more: it must not
    raise (a traceback, nothing said), and an outsider's submission writes nothing."""
    before = row_counts(bot.services.engine)
    view = _view(f"baton_{name}", metadata)
    await ACTS[name](bot.services, sandbox.workspace.team_id, new_outsider().id, view)
    assert row_counts(bot.services.engine) == before


@WITH_THE_BOT
@given(metadata=_metadata_texts())
@example(metadata='{"account_id": "abc"}')
@example(metadata='{"account_id": 424242}')
async def test_closing_the_packet_modal_never_raises_for_any_private_metadata(
    bot, sandbox, acme, outsider, metadata
) -> None:
    view = _view(PACKET_VIEW, metadata)
    await packet_flow.keep_draft(bot.services, sandbox.workspace.team_id, outsider.id, view)
