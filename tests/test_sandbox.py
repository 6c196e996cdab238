"""The sandbox enforces Slack's rules, with Slack's error strings, over real HTTP."""

import asyncio

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platform.slack_client import make_client
from bot.sandbox import SandboxWorkspace, SlackSandbox
from bot.sandbox.state import TRIGGER_TTL_S


@pytest.fixture
def client(sandbox: SlackSandbox) -> AsyncWebClient:
    return make_client(sandbox.workspace.bot_token, sandbox.api_url, waits=False)


async def slack_error(call) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return raised.value.response["error"]


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def test_auth(sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    identity = await client.auth_test()
    assert identity["team_id"] == sandbox.workspace.team_id
    assert identity["user_id"] == sandbox.workspace.bot.id
    wrong = make_client("xoxb-wrong", sandbox.api_url)
    assert await slack_error(wrong.auth_test()) == "invalid_auth"
    anonymous = make_client(None, sandbox.api_url)
    assert await slack_error(anonymous.auth_test()) == "not_authed"


async def test_unknown_method_is_an_error(client: AsyncWebClient) -> None:
    assert await slack_error(client.api_call("chat.teleport")) == "unknown_method"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("Acme", "invalid_name_specials"),
        ("acme robotics", "invalid_name_specials"),
        ("acme.robotics", "invalid_name_specials"),
        ("a" * 81, "invalid_name_maxlength"),
        ("--", "invalid_name_punctuation"),
    ],
)
async def test_channel_name_rules(client: AsyncWebClient, name: str, error: str) -> None:
    assert await slack_error(client.conversations_create(name=name)) == error


async def test_channel_lifecycle_rules(
    sandbox: SlackSandbox, client: AsyncWebClient, people
) -> None:
    created = await client.conversations_create(name="acct-acme", is_private=True)
    channel = created["channel"]["id"]
    assert created["channel"]["is_private"]
    assert await slack_error(client.conversations_create(name="acct-acme")) == "name_taken"
    await client.conversations_invite(channel=channel, users=f"{people.ae.id},{people.csm.id}")
    assert (
        await slack_error(client.conversations_invite(channel=channel, users=people.ae.id))
        == "already_in_channel"
    )
    assert (
        await slack_error(client.conversations_invite(channel=channel, users="U999"))
        == "user_not_found"
    )
    await client.conversations_setTopic(channel=channel, topic="ARR $80,000 · renews 2028-01-31")
    members = await client.conversations_members(channel=channel)
    assert set(members["members"]) == {sandbox.workspace.bot.id, people.ae.id, people.csm.id}
    info = await client.conversations_info(channel=channel)
    assert info["channel"]["topic"]["value"].startswith("ARR")
    await client.bookmarks_add(
        channel_id=channel, title="CRM", type="link", link="https://crm.example.test/deals/1"
    )
    assert sandbox.workspace.channels[channel].bookmarks[0]["title"] == "CRM"


async def test_bot_must_be_in_the_channel(
    sandbox: SlackSandbox, client: AsyncWebClient, people
) -> None:
    public = sandbox.workspace.add_channel("general", [people.ae.id])
    private = sandbox.workspace.add_channel("secret", [people.ae.id], is_private=True)
    assert (
        await slack_error(client.chat_postMessage(channel=public.id, text="hi")) == "not_in_channel"
    )
    assert (
        await slack_error(client.chat_postMessage(channel=private.id, text="hi"))
        == "channel_not_found"
    )


async def test_users(client: AsyncWebClient, people) -> None:
    found = await client.users_lookupByEmail(email="ANA@example.test")
    assert found["user"]["id"] == people.ae.id
    assert found["user"]["tz"] == "America/New_York"
    assert (
        await slack_error(client.users_lookupByEmail(email="nobody@example.test"))
        == "users_not_found"
    )
    info = await client.users_info(user=people.csm.id)
    assert info["user"]["profile"]["email"] == "chen@example.test"


async def test_dm_by_user_id_and_threads(
    sandbox: SlackSandbox, client: AsyncWebClient, people
) -> None:
    posted = await client.chat_postMessage(
        channel=people.csm.id, text="hello", metadata={"event_type": "x", "event_payload": {"n": 1}}
    )
    opened = await client.conversations_open(users=people.csm.id)
    assert posted["channel"] == opened["channel"]["id"]
    reply = await client.chat_postMessage(
        channel=posted["channel"], text="more", thread_ts=posted["ts"]
    )
    assert float(reply["ts"]) > float(posted["ts"])
    assert (
        await slack_error(
            client.chat_postMessage(channel=posted["channel"], text="x", thread_ts="1.000001")
        )
        == "thread_not_found"
    )
    history = await client.conversations_history(
        channel=posted["channel"], include_all_metadata=True
    )
    assert [m["text"] for m in history["messages"]] == ["hello"]
    assert history["messages"][0]["metadata"]["event_payload"] == {"n": 1}
    await client.chat_update(channel=posted["channel"], ts=posted["ts"], text="edited")
    assert sandbox.workspace.channels[posted["channel"]].messages[0].text == "edited"


async def test_block_kit_limits(client: AsyncWebClient, people) -> None:
    too_many = [section(str(i)) for i in range(51)]
    assert (
        await slack_error(client.chat_postMessage(channel=people.ae.id, text="x", blocks=too_many))
        == "invalid_blocks"
    )
    too_long = [section("x" * 3001)]
    assert (
        await slack_error(client.chat_postMessage(channel=people.ae.id, text="x", blocks=too_long))
        == "invalid_blocks"
    )
    unknown = [{"type": "hologram"}]
    assert (
        await slack_error(client.chat_postMessage(channel=people.ae.id, text="x", blocks=unknown))
        == "invalid_blocks"
    )
    extra_field = [{**section("ok"), "colour": "red"}]
    assert (
        await slack_error(
            client.chat_postMessage(channel=people.ae.id, text="x", blocks=extra_field)
        )
        == "invalid_blocks"
    )
    assert (
        await slack_error(client.api_call("chat.postMessage", json={"channel": people.ae.id}))
        == "no_text"
    )
    fifty = [section(str(i)) for i in range(50)]
    assert (await client.chat_postMessage(channel=people.ae.id, text="x", blocks=fifty))["ok"]


def modal(title: str = "Handoff packet", blocks: int = 1) -> dict:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "blocks": [section(f"b{i}") for i in range(blocks)],
    }


async def test_views_validate_and_triggers_expire(
    sandbox: SlackSandbox, client: AsyncWebClient, people
) -> None:
    workspace = sandbox.workspace
    trigger = workspace.issue_trigger(people.ae.id)
    assert (
        await slack_error(client.views_open(trigger_id=trigger, view=modal("x" * 25)))
        == "invalid_arguments"
    )
    # views.* document no invalid_blocks: a bad view is invalid_arguments with messages.
    assert (
        await slack_error(client.views_open(trigger_id=trigger, view=modal(blocks=101)))
        == "invalid_arguments"
    )
    opened = await client.views_open(trigger_id=trigger, view=modal(blocks=100))
    assert opened["view"]["id"] in workspace.views
    assert (
        await slack_error(client.views_open(trigger_id=trigger, view=modal()))
        == "exchanged_trigger_id"
    )
    assert (
        await slack_error(client.views_open(trigger_id="1.2.abc", view=modal()))
        == "invalid_trigger_id"
    )
    clock = [0.0]
    workspace.monotonic = lambda: clock[0]
    late = workspace.issue_trigger(people.ae.id)
    clock[0] += TRIGGER_TTL_S + 0.01
    assert (
        await slack_error(client.views_open(trigger_id=late, view=modal())) == "expired_trigger_id"
    )


async def test_view_update_push_and_publish(
    sandbox: SlackSandbox, client: AsyncWebClient, people
) -> None:
    workspace = sandbox.workspace
    opened = await client.views_open(trigger_id=workspace.issue_trigger(people.ae.id), view=modal())
    view_id = opened["view"]["id"]
    await client.views_update(view_id=view_id, view=modal("Step 2"))
    assert workspace.views[view_id].view["title"]["text"] == "Step 2"
    assert (
        await slack_error(client.views_update(view_id=view_id, hash="stale", view=modal()))
        == "hash_conflict"
    )
    for _ in range(2):
        await client.views_push(trigger_id=workspace.issue_trigger(people.ae.id), view=modal())
    assert (
        await slack_error(
            client.views_push(trigger_id=workspace.issue_trigger(people.ae.id), view=modal())
        )
        == "push_limit_reached"
    )
    home = {"type": "home", "blocks": [section("hi")]}
    await client.views_publish(user_id=people.ae.id, view=home)
    assert workspace.home_views[people.ae.id]["blocks"][0]["text"]["text"] == "hi"


async def test_rate_limit_tier_answers_429_with_retry_after(client: AsyncWebClient) -> None:
    # conversations.create is Tier 2: about 20 a minute.
    for index in range(20):
        await client.conversations_create(name=f"burst-{index}")
    with pytest.raises(SlackApiError) as raised:
        await client.conversations_create(name="burst-20")
    assert raised.value.response.status_code == 429
    assert int(raised.value.response.headers["Retry-After"]) >= 1


async def test_post_message_is_limited_per_channel(client: AsyncWebClient, people) -> None:
    statuses = []
    for index in range(10):
        try:
            await client.chat_postMessage(channel=people.ae.id, text=str(index))
            statuses.append(200)
        except SlackApiError as exc:
            statuses.append(exc.response.status_code)
    assert 429 in statuses and statuses[0] == 200
    other = await client.chat_postMessage(channel=people.csm.id, text="other channel")
    assert other["ok"]


async def test_injected_faults(sandbox: SlackSandbox, client: AsyncWebClient, people) -> None:
    sandbox.inject("chat.postMessage", status=503)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel=people.ae.id, text="x")
    assert raised.value.response.status_code == 503
    sandbox.inject("users.info", error="fatal_error", times=2)
    for _ in range(2):
        assert await slack_error(client.users_info(user=people.ae.id)) == "fatal_error"
    assert (await client.users_info(user=people.ae.id))["ok"]
    sandbox.inject("chat.postMessage", status=500, after_effect=True)
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel=people.csm.id, text="landed anyway")
    assert sandbox.workspace.dm_channel(people.csm.id).messages[-1].text == "landed anyway"
    sandbox.inject("auth.test", delay_s=1.5)
    slow = make_client(sandbox.workspace.bot_token, sandbox.api_url, timeout=1, waits=False)
    with pytest.raises(asyncio.TimeoutError):
        await slow.auth_test()


async def test_missing_scope() -> None:
    sandbox = SlackSandbox(SandboxWorkspace(bot_scopes={"chat:write"}))
    await sandbox.start()
    try:
        client = make_client(sandbox.workspace.bot_token, sandbox.api_url)
        with pytest.raises(SlackApiError) as raised:
            await client.conversations_create(name="x", is_private=True)
        assert raised.value.response["error"] == "missing_scope"
        assert raised.value.response["needed"] == "groups:write"
    finally:
        await sandbox.stop()


async def test_every_call_is_recorded(sandbox: SlackSandbox, client: AsyncWebClient) -> None:
    await client.auth_test()
    await slack_error(client.conversations_create(name="Bad Name"))
    assert [(c.method, c.ok, c.error) for c in sandbox.calls] == [
        ("auth.test", True, None),
        ("conversations.create", False, "invalid_name_specials"),
    ]


def posted(sandbox: SlackSandbox, channel: str, count: int, **extra) -> list[str]:
    """Messages straight into the workspace (no rate limit): their ts, oldest first."""
    post = sandbox.workspace.api_chat_postMessage
    return [post({"channel": channel, "text": f"m{n}", **extra})["ts"] for n in range(count)]


async def every_page(call, **args) -> list[list[str]]:
    """The texts of each page, following next_cursor to the end."""
    pages, cursor = [], None
    while True:
        answer = await call(**args, **({"cursor": cursor} if cursor else {}))
        pages.append([m["text"] for m in answer["messages"]])
        cursor = (answer.get("response_metadata") or {}).get("next_cursor")
        assert answer["has_more"] == bool(cursor)
        if not cursor:
            return pages


async def test_history_pages_newest_first_by_cursor(
    sandbox: SlackSandbox, client: AsyncWebClient, people
) -> None:
    channel = sandbox.workspace.add_channel("busy", [sandbox.workspace.bot.id]).id
    first = posted(sandbox, channel, 7)
    posted(sandbox, channel, 2, thread_ts=first[0])  # replies stay out of history
    pages = await every_page(client.conversations_history, channel=channel, limit=3)
    assert pages == [["m6", "m5", "m4"], ["m3", "m2", "m1"], ["m0"]]
    default = await client.conversations_history(channel=channel)
    assert len(default["messages"]) == 7 and not default["has_more"]
    posted(sandbox, channel, 100)
    assert len((await client.conversations_history(channel=channel))["messages"]) == 100


async def test_history_window_excludes_its_ends_unless_inclusive(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    channel = sandbox.workspace.add_channel("window", [sandbox.workspace.bot.id]).id
    ts = posted(sandbox, channel, 6)
    window = {"channel": channel, "oldest": ts[1], "latest": ts[4]}
    assert await every_page(client.conversations_history, **window) == [["m3", "m2"]]
    assert await every_page(client.conversations_history, **window, inclusive=True, limit=3) == [
        ["m4", "m3", "m2"],
        ["m1"],
    ]
    later = await client.conversations_history(channel=channel, oldest=ts[5])
    assert later["messages"] == [] and not later["has_more"]


async def test_replies_page_oldest_first_after_their_parent(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    channel = sandbox.workspace.add_channel("thread", [sandbox.workspace.bot.id]).id
    (parent,) = posted(sandbox, channel, 1)
    replies = posted(sandbox, channel, 5, thread_ts=parent)
    read = client.conversations_replies
    assert await every_page(read, channel=channel, ts=parent, limit=2) == [
        ["m0", "m0"],
        ["m1", "m2"],
        ["m3", "m4"],
    ]
    # The parent leads even outside the window; a reply's ts reads the same thread.
    assert await every_page(read, channel=channel, ts=replies[2], oldest=replies[2]) == [
        ["m0", "m3", "m4"]
    ]
    posted(sandbox, channel, 10, thread_ts=parent)
    assert len((await read(channel=channel, ts=parent))["messages"]) == 10  # Slack's default


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"cursor": "bm9wZQ=="}, "invalid_cursor"),
        ({"cursor": "not base64!"}, "invalid_cursor"),
        ({"limit": 0}, "invalid_arguments"),
        ({"limit": 1000}, "invalid_arguments"),
        ({"limit": "ten"}, "invalid_arguments"),
        ({"oldest": "yesterday"}, "invalid_ts_oldest"),
        ({"latest": "-1"}, "invalid_ts_latest"),
        ({"inclusive": "maybe"}, "invalid_arguments"),
    ],
)
async def test_bad_paging_arguments_get_slacks_errors(
    sandbox: SlackSandbox, client: AsyncWebClient, args: dict, error: str
) -> None:
    channel = sandbox.workspace.add_channel("paged", [sandbox.workspace.bot.id]).id
    (parent,) = posted(sandbox, channel, 1)
    posted(sandbox, channel, 1, thread_ts=parent)
    assert await slack_error(client.conversations_history(channel=channel, **args)) == error
    assert (
        await slack_error(client.conversations_replies(channel=channel, ts=parent, **args)) == error
    )


async def test_a_cursor_reads_only_the_conversation_that_gave_it(
    sandbox: SlackSandbox, client: AsyncWebClient
) -> None:
    bot = sandbox.workspace.bot.id
    one = sandbox.workspace.add_channel("one", [bot]).id
    two = sandbox.workspace.add_channel("two", [bot]).id
    parent = posted(sandbox, one, 3)[0]
    posted(sandbox, one, 3, thread_ts=parent)
    posted(sandbox, two, 3)
    cursor = (await client.conversations_history(channel=one, limit=1))["response_metadata"]
    assert (
        await slack_error(
            client.conversations_history(channel=two, limit=1, cursor=cursor["next_cursor"])
        )
        == "invalid_cursor"
    )
    assert (
        await slack_error(
            client.conversations_replies(channel=one, ts=parent, cursor=cursor["next_cursor"])
        )
        == "invalid_cursor"
    )
