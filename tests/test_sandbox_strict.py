"""The sandbox checks Block Kit at every level, the answers Slack reads from the app, the
response_url's limits and Slack's 3-second ack, and never answers a malformed call with 5xx."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platform.slack_client import make_client
from bot.sandbox import SlackDriver, SlackSandbox
from bot.sandbox.rules import SlackError, check_blocks, check_view, view_answer_problems
from bot.sandbox.server import RESPONSE_URL_USES
from tests.helpers import bare_bolt


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def option(value: str, label: str = "x", kind: Any = plain) -> dict[str, Any]:
    return {"text": kind(label), "value": value}


def button(action_id: str = "a", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": plain("Go"), "action_id": action_id, **extra}


def actions(*elements: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "actions", "elements": list(elements), **extra}


def section(text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": mrkdwn(text), **extra}


def field_input(element: dict[str, Any], block_id: str = "f") -> dict[str, Any]:
    return {"type": "input", "block_id": block_id, "label": plain("Field"), "element": element}


def options(count: int) -> list[dict[str, Any]]:
    return [option(str(index)) for index in range(count)]


# Every one of these breaks a rule of Slack's Block Kit reference, below the top level.
BROKEN_BLOCKS = {
    "button text over 75": [actions(button(text=plain("x" * 76)))],
    "button text mrkdwn": [actions(button(text=mrkdwn("Go")))],
    "button value over 2000": [actions(button(value="v" * 2001))],
    "button url over 3000": [actions(button(url="https://x.test/" + "a" * 3000))],
    "button unknown key": [actions(button(colour="red"))],
    "button bad style": [actions(button(style="loud"))],
    "action_id over 255": [actions(button("a" * 256))],
    "action_ids not unique in a block": [actions(button("same"), button("same"))],
    "block_id over 255": [section(block_id="b" * 256)],
    "block_ids not unique": [section(block_id="b"), section(block_id="b")],
    "header text mrkdwn": [{"type": "header", "text": mrkdwn("Title")}],
    "header text over 150": [{"type": "header", "text": plain("x" * 151)}],
    "section text over 3000": [section("x" * 3001)],
    "section without text or fields": [{"type": "section"}],
    "section with 11 fields": [{"type": "section", "fields": [mrkdwn("f")] * 11}],
    "section field over 2000": [{"type": "section", "fields": [mrkdwn("x" * 2001)]}],
    "context with 11 elements": [{"type": "context", "elements": [mrkdwn("c")] * 11}],
    "actions with 26 elements": [actions(*(button(str(i)) for i in range(26)))],
    "empty text": [section("")],
    "text object unknown key": [{"type": "section", "text": {**mrkdwn("x"), "bold": True}}],
    "static_select with 101 options": [
        actions({"type": "static_select", "action_id": "s", "options": options(101)})
    ],
    "static_select option mrkdwn": [
        actions({"type": "static_select", "action_id": "s", "options": [option("1", kind=mrkdwn)]})
    ],
    "option value over 150": [
        actions({"type": "static_select", "action_id": "s", "options": [option("v" * 151)]})
    ],
    "option text over 75": [
        actions({"type": "static_select", "action_id": "s", "options": [option("1", "x" * 76)]})
    ],
    "initial_option not among options": [
        actions(
            {
                "type": "static_select",
                "action_id": "s",
                "options": options(2),
                "initial_option": option("9"),
            }
        )
    ],
    "checkboxes with 11 options": [
        actions({"type": "checkboxes", "action_id": "c", "options": options(11)})
    ],
    "initial_options not among checkboxes": [
        actions(
            {
                "type": "checkboxes",
                "action_id": "c",
                "options": options(2),
                "initial_options": [option("7")],
            }
        )
    ],
    "radio_buttons with 11 options": [
        actions({"type": "radio_buttons", "action_id": "r", "options": options(11)})
    ],
    "overflow with 1 option": [
        actions({"type": "overflow", "action_id": "o", "options": options(1)})
    ],
    "overflow with 6 options": [
        actions({"type": "overflow", "action_id": "o", "options": options(6)})
    ],
    "input label mrkdwn": [{**field_input({"type": "plain_text_input"}), "label": mrkdwn("L")}],
    "input placeholder mrkdwn": [
        field_input({"type": "plain_text_input", "placeholder": mrkdwn("p")})
    ],
    "max_length over 3000": [field_input({"type": "plain_text_input", "max_length": 3001})],
    "initial_value longer than max_length": [
        field_input({"type": "plain_text_input", "max_length": 5, "initial_value": "123456"})
    ],
    "datepicker bad date": [field_input({"type": "datepicker", "initial_date": "04/01/2027"})],
    "element not allowed in actions": [actions({"type": "plain_text_input", "action_id": "t"})],
    "confirm missing deny": [
        actions(button(confirm={"title": plain("t"), "text": plain("x"), "confirm": plain("y")}))
    ],
    "unsupported block type": [{"type": "hologram"}],
}

GOOD_BLOCKS = [
    section("hi", block_id="one", accessory=button("acc", value="v" * 2000)),
    {"type": "section", "fields": [mrkdwn("x" * 2000)] * 10},
    {"type": "header", "text": plain("x" * 150)},
    {"type": "context", "elements": [mrkdwn("c")] * 10},
    actions(*(button(str(i)) for i in range(25))),
    actions(
        {"type": "checkboxes", "action_id": "c", "options": [option("1", kind=mrkdwn)]},
        {"type": "overflow", "action_id": "o", "options": options(5)},
        {
            "type": "static_select",
            "action_id": "s",
            "options": options(100),
            "initial_option": option("3"),
        },
    ),
    field_input({"type": "plain_text_input", "max_length": 3000, "initial_value": "x" * 3000}),
    {"type": "divider"},
]


@pytest.mark.parametrize("blocks", BROKEN_BLOCKS.values(), ids=BROKEN_BLOCKS.keys())
def test_nested_block_kit_rules(blocks: list[dict[str, Any]]) -> None:
    with pytest.raises(SlackError) as raised:
        check_blocks(blocks)
    assert raised.value.code == "invalid_blocks"
    assert all("[json-pointer:/blocks/" in error for error in raised.value.extra["errors"])


def test_valid_blocks_at_the_limits_pass() -> None:
    assert check_blocks(GOOD_BLOCKS) == GOOD_BLOCKS


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": plain("Title"), "blocks": blocks, **extra}


BROKEN_VIEWS = {
    "input without submit": modal([field_input({"type": "plain_text_input"})]),
    "title over 24": modal([section()], title=plain("x" * 25)),
    "title mrkdwn": modal([section()], title=mrkdwn("Title")),
    "submit over 24": modal([section()], submit=plain("x" * 25)),
    "close mrkdwn": modal([section()], close=mrkdwn("Close")),
    "unknown view key": modal([section()], colour="red"),
    "private_metadata over 3000": modal([section()], private_metadata="x" * 3001),
    "nested problem": modal([actions(button(text=plain("x" * 76)))]),
}


@pytest.mark.parametrize("view", BROKEN_VIEWS.values(), ids=BROKEN_VIEWS.keys())
def test_view_rules(view: dict[str, Any]) -> None:
    with pytest.raises(SlackError) as raised:
        check_view(view)
    assert raised.value.code == "invalid_arguments"
    assert all(
        "json-pointer:/view" in m for m in raised.value.extra["response_metadata"]["messages"]
    )


def test_a_modal_with_inputs_and_submit_passes() -> None:
    view = modal([field_input({"type": "plain_text_input"})], submit=plain("Save"))
    assert check_view(view) == view


def test_view_submission_answers() -> None:
    view = modal([field_input({"type": "plain_text_input"}, "name"), section()], submit=plain("S"))
    assert view_answer_problems(None, view) == []
    assert (
        view_answer_problems({"response_action": "errors", "errors": {"name": "No."}}, view) == []
    )
    assert view_answer_problems({"response_action": "errors", "errors": {"nope": "No."}}, view)
    assert view_answer_problems({"response_action": "errors", "errors": {"name": ""}}, view)
    assert view_answer_problems({"response_action": "errors", "errors": {}}, view)
    assert view_answer_problems({"response_action": "update", "view": modal([])}, view) == []
    assert view_answer_problems({"response_action": "update", "view": {"type": "modal"}}, view)
    assert view_answer_problems({"response_action": "push"}, view)
    assert view_answer_problems({"response_action": "explode"}, view)
    assert view_answer_problems({"response_action": "clear", "extra": 1}, view)


@pytest.fixture
def client(sandbox: SlackSandbox) -> AsyncWebClient:
    return make_client(sandbox.workspace.bot_token, sandbox.api_url, waits=False)


async def test_broken_blocks_answer_200_invalid_blocks_over_http(client, people) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(
            channel=people.ae.id, text="x", blocks=[actions(button(text=plain("x" * 76)))]
        )
    assert raised.value.response.status_code == 200
    assert raised.value.response["error"] == "invalid_blocks"
    assert "/blocks/0/elements/0/text/text" in raised.value.response["errors"][0]


async def test_private_channels_get_c_ids(client) -> None:
    created = await client.conversations_create(name="acct-private", is_private=True)
    assert created["channel"]["id"].startswith("C")
    assert created["channel"]["is_private"] and not created["channel"]["is_group"]


# --- never a 5xx -----------------------------------------------------------------------
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
METHODS = [
    "chat.postMessage",
    "chat.postEphemeral",
    "chat.update",
    "views.open",
    "views.update",
    "views.publish",
    "views.push",
    "conversations.create",
    "conversations.invite",
    "conversations.open",
    "conversations.setTopic",
    "conversations.history",
    "conversations.replies",
    "bookmarks.add",
    "users.info",
]
KEYS = ["channel", "text", "blocks", "view", "user", "users", "ts", "limit", "name", "topic"]


async def test_malformed_calls_never_answer_5xx(sandbox: SlackSandbox, people) -> None:
    sandbox.limiter.enabled = False
    headers = {"Authorization": f"Bearer {sandbox.workspace.bot_token}"}
    statuses: list[int] = []
    async with aiohttp.ClientSession(trust_env=False) as http:

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(METHODS), st.dictionaries(st.sampled_from(KEYS), JSONISH))
        def probe(method: str, args: dict[str, Any]) -> None:
            async def call() -> int:
                url = sandbox.api_url + method
                async with http.post(url, json=args, headers=headers) as resp:
                    await resp.read()
                    return resp.status

            statuses.append(asyncio.run_coroutine_threadsafe(call(), loop).result())

        loop = asyncio.get_running_loop()
        await asyncio.to_thread(probe)  # not database work: hypothesis drives the loop
        for raw in (b"[1, 2]", b'"text"', b"{not json", b"\xff\xfe"):
            async with http.post(
                sandbox.api_url + "chat.postMessage",
                data=raw,
                headers={**headers, "Content-Type": "application/json"},
            ) as resp:
                statuses.append(resp.status)
    assert statuses and all(status == 200 for status in statuses), sorted(set(statuses))


# --- response_url ----------------------------------------------------------------------
async def post_json(url: str, body: Any) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession(trust_env=False) as http,
        http.post(url, data=json.dumps(body), headers={"Content-Type": "application/json"}) as resp,
    ):
        return resp.status, await resp.text()


async def test_response_url_takes_five_posts(sandbox: SlackSandbox, people) -> None:
    url = sandbox.response_url_for(people.ae.id, sandbox.workspace.dm_channel(people.ae.id).id)
    for index in range(RESPONSE_URL_USES):
        assert await post_json(url, {"text": f"update {index}"}) == (200, "ok")
    assert await post_json(url, {"text": "one more"}) == (404, "used_url")
    assert len(sandbox.response_posts) == RESPONSE_URL_USES


async def test_response_url_expires_after_30_minutes(sandbox: SlackSandbox, clock, people) -> None:
    url = sandbox.response_url_for(people.ae.id, sandbox.workspace.dm_channel(people.ae.id).id)
    clock.advance(timedelta(minutes=30))
    assert await post_json(url, {"text": "just in time"}) == (200, "ok")
    clock.advance(timedelta(seconds=1))
    assert await post_json(url, {"text": "too late"}) == (404, "expired_url")


@pytest.mark.parametrize(
    "body",
    [
        [1, 2],
        "just a string",
        {"text": ""},
        {"text": "x", "blocks": [actions(button(text=plain("x" * 76)))]},
        {"text": "x", "response_type": "everyone"},
        {"text": "x", "colour": "red"},
    ],
)
async def test_a_bad_response_url_post_is_refused_and_recorded(
    sandbox: SlackSandbox, people, body: Any
) -> None:
    url = sandbox.response_url_for(people.ae.id, sandbox.workspace.dm_channel(people.ae.id).id)
    status, _ = await post_json(url, body)
    assert status == 400
    assert [r.kind for r in sandbox.rejected_replies] == ["response_url"]
    assert not sandbox.workspace.ephemerals


# --- the driver reads the bot's answers as Slack does ------------------------------------
@pytest.mark.late_acks_expected
async def test_a_slow_http_ack_is_a_late_ack_and_its_reply_is_not_shown(
    sandbox: SlackSandbox, people
) -> None:
    def register(app: AsyncApp) -> None:
        @app.command("/slow")
        async def slow(ack) -> None:  # noqa: ANN001
            await asyncio.sleep(3.2)  # a real 3.2 s: what Slack would wait for, and more
            await ack("too late")

        @app.command("/quick")
        async def quick(ack) -> None:  # noqa: ANN001
            await ack("in time")

    url, runner = await bare_bolt(sandbox, register)
    driver = SlackDriver(sandbox, url, "s3cret")
    try:
        late = await driver.command(people.ae, "", command="/slow")
        quick = await driver.command(people.ae, "", command="/quick")
    finally:
        await driver.close()
        await runner.cleanup()
    assert late.late and not quick.late
    assert [a.what for a in driver.late_acks] == ["/slow"]
    assert [e.text for e in sandbox.workspace.ephemerals] == ["in time"]


@pytest.mark.rejected_replies_expected
async def test_a_command_reply_that_breaks_a_rule_is_an_error(
    sandbox: SlackSandbox, people
) -> None:
    def register(app: AsyncApp) -> None:
        @app.command("/bad")
        async def bad(ack) -> None:  # noqa: ANN001
            await ack(text="x", blocks=[actions(button(text=plain("x" * 76)))])

    url, runner = await bare_bolt(sandbox, register)
    driver = SlackDriver(sandbox, url, "s3cret")
    try:
        reply = await driver.command(people.ae, "", command="/bad")
    finally:
        await driver.close()
        await runner.cleanup()
    assert reply.rejected and reply.rejected[0] == "invalid_blocks"
    assert [r.kind for r in sandbox.rejected_replies] == ["command"]
    assert not sandbox.workspace.ephemerals


@pytest.mark.rejected_replies_expected
async def test_view_errors_must_name_input_blocks(sandbox: SlackSandbox, people) -> None:
    view_json = modal(
        [field_input({"type": "plain_text_input", "action_id": "value"}, "name")],
        submit=plain("Save"),
        callback_id="form",
    )

    def register(app: AsyncApp) -> None:
        @app.view("form")
        async def form(ack) -> None:  # noqa: ANN001
            await ack(response_action="errors", errors={"not_a_block": "Wrong."})

    url, runner = await bare_bolt(sandbox, register)
    driver = SlackDriver(sandbox, url, "s3cret")
    client = make_client(sandbox.workspace.bot_token, sandbox.api_url)
    try:
        trigger = sandbox.workspace.issue_trigger(people.ae.id)
        await client.views_open(trigger_id=trigger, view=view_json)
        (opened,) = sandbox.workspace.views_of(people.ae.id)
        reply = await driver.submit(people.ae, opened, {"name": "x"})
    finally:
        await driver.close()
        await runner.cleanup()
    assert reply.rejected and "not_a_block" in reply.rejected[0]
    assert sandbox.workspace.views_of(people.ae.id) == [opened]  # the modal stays open
    assert sandbox.rejected_replies
