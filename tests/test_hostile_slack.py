"""`POST /slack/events` (and the Socket Mode envelopes) against malformed payloads.

Each request is signed as Slack signs it, so it passes verification: what is checked is
that a malformed payload is acknowledged and ignored (or refused with one sentence),
never a 5xx, never a row written, never a traceback. The bot answers only after its
listeners finish (`process_before_response`), so anything a listener raises after its
ack is a 500 here too, and in the logs before the test looks.
"""

import json
import logging
from collections.abc import AsyncIterator, Callable
from datetime import date
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.checkins.blocks import (
    CHECKIN_EDIT,
    CHECKIN_OPEN,
    CHECKIN_VIEW,
    CLARIFY_OPEN,
    CLARIFY_VIEW,
    RATE_OPEN,
    RATING_VIEW,
)
from bot.handoff.blocks import (
    ACKNOWLEDGE,
    KICKOFF_HELD,
    NEW_ACCOUNT_VIEW,
    OPEN_MARKETING,
    OPEN_PACKET,
    PACKET_VIEW,
    QUESTIONS,
)
from bot.outbox.tick import run_tick
from bot.ownership.home_blocks import HELP_ACTION, PAGE_ACTION
from bot.platform.settings import Settings, load_settings
from bot.renewal.blocks import (
    CHURNED,
    CHURNED_VIEW,
    DONE,
    DONE_VIEW,
    FLAG,
    FLAG_VIEW,
    HANDBACK_HELD,
    HELP,
    NOT_YET,
    RENEWED,
    RENEWED_VIEW,
    SIGNED,
    SNOOZE,
)
from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver, SlackSandbox
from bot.sandbox.driver import sign
from storage.milestones import cycle_milestones
from tests.helpers import (
    FORM,
    VALID_STATE,
    World,
    assert_no_tracebacks,
    closed_won,
    day,
    deal,
    event_body,
    form,
    interactive,
    row_counts,
    typed,
    until,
)


@pytest.fixture
async def strict_bot(settings: Settings) -> AsyncIterator[BotServer]:
    server = BotServer(settings, ticker=False, process_before_response=True)
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.fixture
async def strict_driver(sandbox, strict_bot, signing_secret) -> AsyncIterator[SlackDriver]:
    driver = SlackDriver(sandbox, strict_bot.url, signing_secret)
    yield driver
    await driver.close()


@pytest.fixture
async def world(strict_driver, strict_bot, sandbox, people) -> World:
    sandbox.limiter.enabled = False  # hundreds of refusals in a row are not what is tested
    strict_bot.services.budget.enabled = False  # nor Baton keeping to Slack's limits
    reply = await closed_won(strict_driver, deal())
    assert reply.status == 202, reply.text
    await run_tick(strict_bot.services)  # plans the renewal cycle's milestones
    account_id = reply.json["account_id"]
    renewal = date.fromisoformat(deal()["renewal_date"])
    team = sandbox.workspace.team_id
    steps = strict_bot.services.db.run_sync(cycle_milestones, team, account_id, renewal)
    return World(sandbox, people, account_id, steps[0].id)


BAD_METADATA = [
    "[]",
    "null",
    "{",
    '"account"',
    "",
    "17",
    '{"account_id": {}}',
    '{"account_id": []}',
    '{"account_id": "99999999999999999999"}',
    '{"account_id": 99999999999999999999}',
    '{"account_id": -1, "milestone_id": -1, "checkin_id": -1}',
    '{"account_id": "1e3", "milestone_id": "1e3", "checkin_id": "1e3"}',
    '{"account_id": true, "milestone_id": true, "checkin_id": true}',
    '{"milestone_id": "99999999999999999999"}',
    '{"milestone_id": {}, "checkin_id": {}}',
]
# A real account with the rest malformed: only these modals read the rest.
BAD_FOR = {
    CHECKIN_VIEW: [
        '{"account_id": 1, "checkin_id": "99999999999999999999"}',
        '{"account_id": 1, "checkin_id": {}}',
        '{"account_id": 1, "checkin_id": -1}',
        '{"account_id": 1, "checkin_id": true}',
    ],
    RENEWED_VIEW: ['{"account_id": 1, "cycle": {}}', '{"account_id": 1}'],
}
BUTTONS = [
    DONE,
    FLAG,
    SIGNED,
    NOT_YET,
    RENEWED,
    CHURNED,
    HANDBACK_HELD,
    HELP,
    f"{SNOOZE}_1",
    CHECKIN_OPEN,
    CHECKIN_EDIT,
    CLARIFY_OPEN,
    RATE_OPEN,
    OPEN_PACKET,
    OPEN_MARKETING,
    ACKNOWLEDGE,
    QUESTIONS,
    KICKOFF_HELD,
    f"{PAGE_ACTION}_next",
]
BAD_VALUES = ["99999999999999999999", "-1", "1e3", "", "²", "0", "1_0", None]

Case = Callable[[World], tuple[bytes, str]]


def without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


def in_view(view_changes: dict[str, Any]) -> Callable[[World], tuple[bytes, str]]:
    def build(w: World) -> tuple[bytes, str]:
        payload = w.submission(CHECKIN_VIEW, "{}", VALID_STATE[CHECKIN_VIEW])
        payload["view"] = {**payload["view"], **view_changes}
        return interactive(payload)

    return build


SHAPES: dict[str, Case] = {
    "click without actions": lambda w: interactive(without(w.click(DONE), "actions")),
    "click with actions []": lambda w: interactive(w.click(DONE, actions=[])),
    "click with actions [str]": lambda w: interactive(w.click(DONE, actions=["baton"])),
    "click with actions {}": lambda w: interactive(w.click(DONE, actions={"0": {}})),
    "click without action_id": lambda w: interactive(w.click(DONE, actions=[{"value": "1"}])),
    "click with a numeric value": lambda w: interactive(w.click(DONE, value=1)),
    "click with an object value": lambda w: interactive(w.click(OPEN_PACKET, value={"id": 1})),
    "click without team": lambda w: interactive(without(w.click(ACKNOWLEDGE), "team")),
    "click with team a string": lambda w: interactive(w.click(ACKNOWLEDGE, team=w.team)),
    "click with a 200-char team id": lambda w: interactive(w.click(DONE, team={"id": "T" * 200})),
    "click without user": lambda w: interactive(without(w.click(ACKNOWLEDGE), "user")),
    "click with user {}": lambda w: interactive(w.click(ACKNOWLEDGE, user={})),
    "click without trigger_id": lambda w: interactive(without(w.click(RENEWED), "trigger_id")),
    "click from a malformed view": lambda w: interactive(w.click(HELP_ACTION, view="x")),
    "click in a modal, refused": lambda w: interactive(
        without(w.click(DONE, "-1", container={"type": "view", "view_id": "V1"}), "response_url")
    ),
    "submission without view": lambda w: interactive(
        without(w.submission(DONE_VIEW, "{}", {}), "view")
    ),
    "submission with view a string": lambda w: interactive(
        w.submission(DONE_VIEW, "{}", {}, view="V1")
    ),
    "submission without team": lambda w: interactive(
        without(w.submission(DONE_VIEW, "{}", {}), "team")
    ),
    "submission without user": lambda w: interactive(
        without(w.submission(RENEWED_VIEW, "{}", {}), "user")
    ),
    "close without view": lambda w: interactive(
        without(w.submission(PACKET_VIEW, "{}", {}, kind="view_closed"), "view")
    ),
    "view without state": in_view({"state": None}),
    "view with state.values a list": in_view({"state": {"values": []}}),
    "view with an input not an object": in_view({"state": {"values": {"summary": "x"}}}),
    "view with a value not a string": in_view(
        {"state": {"values": {"summary": {"value": {"type": "x", "value": 3}}}}}
    ),
    "view with selected_option a string": in_view(
        {"state": {"values": {"sentiment": {"value": {"selected_option": "positive"}}}}}
    ),
    "view with selected_options an object": in_view(
        {"state": {"values": {"mismatch": {"value": {"selected_options": {"value": "yes"}}}}}}
    ),
    "view with private_metadata an object": in_view({"private_metadata": {"account_id": 1}}),
    "view with a 200-char id": in_view({"id": "V" * 200, "root_view_id": "V" * 200}),
    "command without user_id": lambda w: form(w.command("help", user_id=None)),
    "command without team_id": lambda w: form(w.command("owner acme", team_id=None)),
    "command without trigger_id": lambda w: form(w.command("new", trigger_id=None)),
    "command without channel_id": lambda w: form(w.command("checkin acme", channel_id=None)),
    "event without event": lambda w: event_body(without(w.event({}), "event")),
    "event that is a string": lambda w: event_body(w.event("app_home_opened")),
    "user_change with user a string": lambda w: event_body(
        w.event({"type": "user_change", "user": "U1"})
    ),
    "user_change with odd fields": lambda w: event_body(
        w.event(
            {
                "type": "user_change",
                "user": {"id": w.people.ae.id, "tz": {}, "real_name": 5, "profile": "x"},
            }
        )
    ),
    "user_change with a 1000-char zone": lambda w: event_body(
        w.event({"type": "user_change", "user": {"id": w.people.ae.id, "tz": "x" * 1000}})
    ),
    "app_home_opened with user an object": lambda w: event_body(
        w.event({"type": "app_home_opened", "user": {"id": "U1"}, "tab": "home"})
    ),
    "event without team_id": lambda w: event_body(
        w.event({"type": "app_home_opened", "user": "U1"}, team_id=None)
    ),
    "unknown payload type": lambda w: interactive({"type": "frobnicate", "team": {"id": "T"}}),
    "payload without type": lambda w: interactive({"team": {"id": w.team}}),
}


async def post_signed(driver: SlackDriver, body: bytes, content_type: str) -> Any:
    return await driver.post("/slack/events", body, content_type, sign(driver.signing_secret, body))


class Harm:
    """Runs many hostile requests against one bot and collects every way one did harm."""

    def __init__(self, driver: SlackDriver, bot: BotServer, caplog) -> None:  # noqa: ANN001
        self.driver, self.bot, self.caplog = driver, bot, caplog
        self.found: list[str] = []
        caplog.set_level(logging.WARNING)

    async def post(
        self, case: str, body: bytes, content_type: str, *statuses: int, headers=None
    ) -> Any:  # noqa: ANN001
        before, logged = row_counts(self.bot.services.engine), len(self.caplog.records)
        headers = {**sign(self.driver.signing_secret, body), **(headers or {})}
        reply = await self.driver.post("/slack/events", body, content_type, headers)
        if reply.status not in (statuses or (200,)):
            self.found.append(f"{case}: {reply.status} {reply.text[:200]}")
        if row_counts(self.bot.services.engine) != before:
            self.found.append(f"{case}: wrote rows")
        for record in self.caplog.records[logged:]:
            if record.levelno >= logging.ERROR or record.exc_info:
                self.found.append(f"{case}: logged {record.levelname} {record.getMessage()}")
        return reply

    def check(self) -> None:
        assert not self.found, "\n".join(self.found)
        assert_no_tracebacks(self.caplog)


async def test_malformed_payloads_are_acknowledged_and_ignored(
    strict_driver, strict_bot, world, caplog
) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    for case, build in SHAPES.items():
        await harm.post(case, *build(world))
    harm.check()


async def test_button_values_out_of_range_are_refused_politely(
    strict_driver, strict_bot, world, caplog
) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    for action_id in BUTTONS:
        for value in BAD_VALUES:
            payload = world.click(action_id, value)
            if value is None:
                del payload["actions"][0]["value"]
            await harm.post(f"{action_id} {value!r}", *interactive(payload))
    harm.check()


async def test_private_metadata_of_any_shape_is_refused_politely(
    strict_driver, strict_bot, world, caplog
) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    for callback_id, state in VALID_STATE.items():
        for metadata in BAD_METADATA + BAD_FOR.get(callback_id, []):
            case = f"{callback_id} {metadata}"
            reply = await harm.post(
                case, *interactive(world.submission(callback_id, metadata, state))
            )
            errors = reply.json.get("errors", {}) if reply.text else {}
            if any("\n" in m or not m.endswith(".") for m in errors.values()):
                harm.found.append(f"{case}: not one sentence: {errors}")
    for metadata in BAD_METADATA:  # closing the packet keeps a draft, if it can
        payload = world.submission(PACKET_VIEW, metadata, VALID_STATE[PACKET_VIEW], "view_closed")
        await harm.post(f"close packet {metadata}", *interactive(payload))
    harm.check()


UNSTORABLE = ["\u0000", "\ud800", "Acme\u0000Robotics", "\udfff tail"]


async def test_unstorable_text_is_refused_at_the_door(
    strict_driver, strict_bot, world, caplog
) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    metadata = json.dumps({"account_id": world.account_id, "checkin_id": None})
    for bad in UNSTORABLE:
        state = {**VALID_STATE[CHECKIN_VIEW], "summary": typed(f"Went well {bad}")}
        payload = world.submission(CHECKIN_VIEW, metadata, state)
        reply = await harm.post(f"check-in {bad!r}", *interactive(payload))
        assert set(reply.json["errors"]) == {"summary"}
        draft = world.submission(PACKET_VIEW, metadata, {"goal": typed(bad)}, "view_closed")
        await harm.post(f"draft {bad!r}", *interactive(draft))
        if "\x00" in bad:  # a form field can't carry a lone surrogate (it is not UTF-8)
            reply = await harm.post(f"command {bad!r}", *form(world.command(f"owner {bad}")))
            assert "can't store" in reply.json["text"]
        click = world.click(OPEN_PACKET, str(world.account_id))
        click["actions"][0]["block_id"] = bad
        await harm.post(f"click {bad!r}", *interactive(click))
        user = {"id": world.people.ae.id, "real_name": f"Ana {bad}", "tz": "UTC"}
        event = world.event({"type": "user_change", "user": user})
        await harm.post(f"user_change {bad!r}", *event_body(event))
    harm.check()


DEEP = "[" * 10_000 + "]" * 10_000
BODIES = {
    "invalid utf-8 form": (b"payload=%7B%7D\xff\xfe", FORM, 400),
    "invalid utf-8 json": (b'{"type": "\xff"}', "application/json", 400),
    "json array": (b"[]", "application/json", 400),
    "json null": (b"null", "application/json", 400),
    "truncated json": (b'{"type": ', "application/json", 400),
    "payload not json": (b"payload=%7B", FORM, 400),
    "payload an array": (urlencode({"payload": "[]"}).encode(), FORM, 400),
    "payload null": (urlencode({"payload": "null"}).encode(), FORM, 400),
    "payload 10,000 deep": (urlencode({"payload": DEEP}).encode(), FORM, 400),
    "event 10,000 deep": (
        ('{"type": "event_callback", "event": ' + DEEP + "}").encode(),
        "application/json",
        400,
    ),
    "a 5000-digit number": (b'{"type": "event_callback", "x": 1' + b"0" * 5000 + b"}", "", 400),
    "authorizations a number": (
        b'{"type": "event_callback", "team_id": "T1", "authorizations": 5}',
        "application/json",
        400,
    ),
    "empty body": (b"", FORM, 200),
}


async def test_unreadable_bodies_are_a_400(strict_driver, strict_bot, world, caplog) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    for case, (body, content_type, status) in BODIES.items():
        reply = await harm.post(case, body, content_type, status)
        if status == 400 and not reply.json["error"].endswith("."):
            harm.found.append(f"{case}: {reply.text}")
    harm.check()


HEADERS = {
    "timestamp abc": {"X-Slack-Request-Timestamp": "abc"},
    "timestamp 1.5": {"X-Slack-Request-Timestamp": "1.5"},
    "timestamp 5000 digits": {"X-Slack-Request-Timestamp": "9" * 5000},
    "timestamp empty": {"X-Slack-Request-Timestamp": ""},
    "timestamp arabic digits": {"X-Slack-Request-Timestamp": "١٧٠٠٠٠٠٠٠٠"},
    "signature non-ascii": {"X-Slack-Signature": "v0=é" + "0" * 63},
    "signature empty": {"X-Slack-Signature": ""},
    "signature 5000 chars": {"X-Slack-Signature": "v0=" + "a" * 5000},
}


async def test_malformed_signature_headers_are_a_clean_401(
    strict_driver, strict_bot, world, caplog
) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    for case, headers in HEADERS.items():
        await harm.post(case, *form(world.command("help")), 401, headers=headers)
    harm.check()


async def test_a_well_formed_click_still_works(
    strict_driver, strict_bot, world, caplog, sandbox
) -> None:
    """The guard lets Slack's real payloads through: the manager opens the packet."""
    caplog.set_level(logging.WARNING)
    body, content_type = interactive(world.click(OPEN_PACKET, str(world.account_id)))
    reply = await post_signed(strict_driver, body, content_type)
    assert reply.status == 200
    assert sandbox.workspace.views_of(world.people.manager.id)
    assert_no_tracebacks(caplog)


async def test_slack_can_still_verify_the_request_url(strict_driver, strict_bot, caplog) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    challenge = {
        "token": "legacy",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    reply = await harm.post("url_verification", *event_body(challenge))
    assert reply.json == {"challenge": challenge["challenge"]}
    harm.check()


async def test_socket_mode_envelopes_are_guarded_too(
    sandbox: SlackSandbox, database_url: str, people, caplog
) -> None:
    caplog.set_level(logging.WARNING)
    settings = load_settings(
        env_file=None,
        slack_bot_token=sandbox.workspace.bot_token,
        slack_app_token=sandbox.workspace.app_token,
        slack_api_url=sandbox.api_url,
        database_url=database_url,
    )
    server = BotServer(settings, ticker=False, process_before_response=True)
    await server.start(host="127.0.0.1", port=0)
    try:
        await until(lambda: sandbox.socket_connected)
        w = World(sandbox, people, 1, 1)
        before = row_counts(server.services.engine)
        envelopes = [
            ("interactive", without(w.click(DONE), "actions")),
            ("interactive", w.click(DONE, value="99999999999999999999")),
            ("interactive", without(w.click(ACKNOWLEDGE), "team")),
            ("interactive", w.submission(RENEWED_VIEW, "[]", VALID_STATE[RENEWED_VIEW])),
            ("interactive", w.submission(DONE_VIEW, "{", VALID_STATE[DONE_VIEW])),
            ("slash_commands", w.command("owner acme", user_id=None)),
            ("events_api", w.event({"type": "user_change", "user": "U1"})),
        ]
        for kind, payload in envelopes:
            await sandbox.deliver_envelope(kind, payload)  # acknowledged, not timed out
        assert row_counts(server.services.engine) == before
        assert_no_tracebacks(caplog)
    finally:
        await server.stop()


def command_cases(w: World) -> list[str]:
    ae, csm = f"<@{w.people.ae.id}|ana>", f"<@{w.people.csm.id}|chen>"
    return [
        "renewed Acme Robotics 0001-01-01",
        "renewed Acme Robotics 2200-01-01",
        "renewed Acme Robotics 9999-12-31",
        "renewed Acme Robotics 2027-02-30",
        "renewed Acme Robotics 2029-01-04 99999999999999999999",
        "renewed Acme Robotics 2029-01-04 1000000000000",
        "renewed Acme Robotics 2029-01-04 9999999999999m",
        f"cover {ae} with {csm} until 0001-01-01",
        f"cover {ae} with {csm} until 2200-01-01",
        f"cover {ae} with {csm} until 9999-12-31",
        f"cover {ae} with {csm} until 31 Dec 9999",
        f"cover {ae} with {csm} until 2027-02-30",
        "history Acme Robotics on 0001-01-01",
        "history Acme Robotics on 9999-12-31",
        "history Acme Robotics on 1 Jan 0001",
        "history Acme Robotics 0001-01-01",
        "history Acme Robotics 9999-12-31",
        "history Acme Robotics on 2027-02-30",
        f"cover <@U{'A' * 100}> with {csm} until 2027-02-01",
        f"cover {ae} with <@U{'A' * 100}> until 2027-02-01",
        f"assign Acme Robotics csm <@U{'A' * 100}>",
        "renewals ²",
        "renewals ١٢",
        "renewals 99999999999999999999",
        "renewals -1",
        "renewals 1e3",
        "renewals 0",
        "renewals 1_0",
    ]


async def test_slash_command_arguments_out_of_range_get_one_sentence(
    strict_driver, strict_bot, world, caplog
) -> None:
    harm = Harm(strict_driver, strict_bot, caplog)
    for text in command_cases(world):
        reply = await harm.post(text, *form(world.command(text)))
        answer = reply.json["text"] if reply.text else ""
        if not answer or "\n" in answer.strip():
            harm.found.append(f"{text}: not one sentence: {answer!r}")
    harm.check()


def user(value: str) -> dict[str, Any]:
    return {"type": "users_select", "selected_user": value}


async def test_every_date_and_number_in_a_modal_is_bounded(
    strict_driver, strict_bot, world, caplog
) -> None:
    """Out-of-range picks get an inline error on their own field, and nothing is saved."""
    harm = Harm(strict_driver, strict_bot, caplog)
    account = json.dumps({"account_id": world.account_id})
    renewed = json.dumps({"account_id": world.account_id, "cycle": deal()["renewal_date"]})
    milestone = json.dumps({"milestone_id": world.milestone_id})
    new_account = {
        "account_name": typed("Globex"),
        "crm_id": typed("G-1"),
        "arr": {"type": "number_input", "value": "20000"},
        "ae": user(world.people.ae.id),
        "csm": user(world.people.csm.id),
    }
    long_text = "x" * 3001
    cases = [
        (CHECKIN_VIEW, account, {"checkin_date": day("0001-01-01")}, "checkin_date"),
        (CHECKIN_VIEW, account, {"checkin_date": day("1969-12-31")}, "checkin_date"),
        (CHECKIN_VIEW, account, {"checkin_date": day("2027-02-30")}, "checkin_date"),
        (CHECKIN_VIEW, account, {"checkin_date": day("20270104")}, "checkin_date"),
        (CHECKIN_VIEW, account, {"summary": typed(long_text)}, "summary"),
        (RENEWED_VIEW, renewed, {"new_date": day("2200-01-01")}, "new_date"),
        (RENEWED_VIEW, renewed, {"new_date": day("not a date")}, "new_date"),
        (RENEWED_VIEW, renewed, {"new_arr": typed("1000000000000")}, "new_arr"),
        (RENEWED_VIEW, renewed, {"new_arr": typed("NaN")}, "new_arr"),
        (RENEWED_VIEW, renewed, {"new_arr": typed("1e400")}, "new_arr"),
        (RENEWED_VIEW, renewed, {"note": typed("x" * 2001)}, "note"),
        (CHURNED_VIEW, account, {"effective": day("0001-01-01")}, "effective"),
        (CHURNED_VIEW, account, {"effective": day("abc")}, "effective"),
        (CHURNED_VIEW, account, {"note": typed("x" * 2001)}, "note"),
        (DONE_VIEW, milestone, {"outcome": typed(long_text)}, "outcome"),
        (FLAG_VIEW, milestone, {"expansion": typed("x" * 2001)}, "expansion"),
        (CLARIFY_VIEW, "{}", {"clarification": typed(long_text)}, "clarification"),
        (RATING_VIEW, account, {"comment": typed(long_text)}, "comment"),
        (NEW_ACCOUNT_VIEW, "", {"contract_start": day("0001-01-01")}, "contract_start"),
        (NEW_ACCOUNT_VIEW, "", {"renewal_date": day("2200-01-01")}, "renewal_date"),
        (NEW_ACCOUNT_VIEW, "", {"contract_start": day("2199-06-01")}, "renewal_date"),
        (NEW_ACCOUNT_VIEW, "", {"arr": {"type": "number_input", "value": "1e13"}}, "arr"),
        (NEW_ACCOUNT_VIEW, "", {"crm_id": typed("G" * 65)}, "crm_id"),
    ]
    base = {**VALID_STATE, NEW_ACCOUNT_VIEW: new_account}
    for callback_id, metadata, fields, block in cases:
        case = f"{callback_id} {fields}"[:120]
        payload = world.submission(callback_id, metadata, {**base[callback_id], **fields})
        reply = await harm.post(case, *interactive(payload))
        errors = reply.json.get("errors", {}) if reply.text else {}
        if block not in errors:
            harm.found.append(f"{case}: no error on {block}: {reply.text[:200]}")
    harm.check()
