"""Hostile names and answers through the real bot and the sandbox Slack, and slash text read
the way Slack sends it (should_escape): `AT&T` arrives as `AT&amp;T`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, date, datetime
from typing import Any

import yaml

from bot.platform.kit import esc
from bot.platform.scopes import MANIFEST
from bot.sandbox import SlackDriver, SlackSandbox
from bot.sandbox.state import Channel, Message, User
from storage.accounts import create_account, search_accounts
from tests.helpers import (
    HOSTILE,
    ask,
    closed_won,
    deal,
    find,
    markup_problems,
    opened_view,
    read,
)

EMAIL = "<!here>@x.test"
# Baton links to Slack's own permalinks (and to the channel before the post is confirmed).
PERMALINK = re.compile(
    r"<https://(?:sandbox\.slack\.test/archives/[A-Z0-9]+/p\d+"
    r"|slack\.com/app_redirect\?channel=[A-Z0-9]+)\|[^<>]*>"
)


def everything(sandbox: SlackSandbox, views: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
    """(where, mrkdwn text) for every message, ephemeral, response_url post, modal and
    home tab in the sandbox workspace, and every channel topic."""
    ws = sandbox.workspace
    for channel in ws.channels.values():
        yield f"#{channel.name} topic", channel.topic
        for message in channel.messages:
            yield from _texts(f"#{channel.name}", message.text, message.blocks)
    for note in ws.ephemerals:
        yield from _texts(f"ephemeral to {note.user}", note.text, note.blocks)
    for post in sandbox.response_posts:
        yield from _texts("response_url", str(post.body.get("text") or ""), post.body.get("blocks"))
    for view in [*views, *(v.view for v in ws.views.values()), *ws.home_views.values()]:
        for text in read(view)[0]:
            yield "view", text


def _texts(where: str, text: str, blocks: list | None) -> Iterator[tuple[str, str]]:
    for mrkdwn in read((text, blocks or []))[0]:
        yield where, mrkdwn


def unescaped(sandbox: SlackSandbox, views: list[dict[str, Any]]) -> list[tuple[str, str, list]]:
    found = []
    for where, text in everything(sandbox, views):
        problems = markup_problems(PERMALINK.sub("", text))
        if problems:
            found.append((where, text, problems))
    return found


async def click(driver: SlackDriver, user: User, channel: Channel, message: Message) -> None:
    button = message.blocks[-1]
    await driver.click(
        user,
        button["elements"][0]["action_id"],
        value=button["elements"][0]["value"],
        block_id=button["block_id"],
        channel=channel,
        message_ts=message.ts,
    )


async def test_hostile_values_reach_no_one_as_markup(driver, sandbox, bot, people) -> None:
    ws, views = sandbox.workspace, []

    async def form(user: User) -> Any:
        view = opened_view(ws, user.id)
        views.append(deepcopy(view.view))
        return view

    hostile_deal = deal(account_name=HOSTILE, crm_id="D-<!here>", am_email=EMAIL, segment=HOSTILE)
    reply = await closed_won(driver, hostile_deal)
    assert reply.status == 202, reply.text
    channel = ws.channels[reply.json["channel_id"]]
    assert any("not in the channel yet" in m.text for m in channel.messages)

    # /baton owner, typed the way a manager would (Slack escapes it, Baton reads it back).
    owner = await ask(driver, people.manager, f"owner {HOSTILE}")
    assert f"*{esc(HOSTILE)}* · CRM D-&lt;!here&gt;" in owner

    # The packet: the AE's part from their DM, marketing's from the channel.
    ae_dm = ws.dm_channel(people.ae.id)
    await click(driver, people.ae, ae_dm, find(ae_dm, "Please fill the handoff packet"))
    answers = {
        key: HOSTILE
        for key in ("goal", "objections", "competitors", "success_metric", "champion")
        + ("economic_buyer", "daily_users", "skeptics", "month6_risks", "icp_reason")
    }
    await driver.submit(
        people.ae,
        await form(people.ae),
        {**answers, "icp_exception": ["yes"], "retention_model": "B"},
    )
    request = find(channel, "Add marketing context")
    await driver.click(
        people.manager,
        "baton_marketing_open",
        value=str(reply.json["account_id"]),
        block_id=request.blocks[-1]["block_id"],
        channel=channel,
        message_ts=request.ts,
    )
    await driver.submit(people.manager, await form(people.manager), {"marketing": HOSTILE})
    assert any("Next: the joint kickoff" in m.text for m in channel.messages)

    # A refusal that names the account: the CSM may not fill the AE's part.
    await click(driver, people.csm, ae_dm, find(ae_dm, "Please fill the handoff packet"))
    assert any("Only the AE on" in e.text for e in ws.ephemerals)

    # A check-in with a mismatch, and the AE's clarification in its thread.
    await driver.command(people.csm, f"checkin {HOSTILE}")
    await driver.submit(
        people.csm,
        await form(people.csm),
        {
            "summary": HOSTILE,
            "sentiment": "concerned",
            "mismatch": ["yes"],
            "promised": HOSTILE,
            "next_steps": HOSTILE,
        },
    )
    assert any("Please clarify" in m.text for m in ae_dm.messages)
    await click(driver, people.ae, ae_dm, find(ae_dm, "Please clarify"))
    await driver.submit(people.ae, await form(people.ae), {"clarification": HOSTILE})
    assert any("clarifies" in m.text for m in channel.messages)
    await driver.open_home(people.csm)
    assert people.csm.id in ws.home_views

    assert unescaped(sandbox, views) == []
    shown = [text for _where, text in everything(sandbox, views)]
    for fragment in (
        f"Welcome, {esc(HOSTILE)}.",  # the channel post's notification text
        f"Check-in #1 for {esc(HOSTILE)}",
        f"clarifies: {esc(HOSTILE)}",
        f"I could not find {esc(EMAIL)} (AM on *{esc(HOSTILE)}*)",
        f"“{esc(HOSTILE)}”",  # the AE's copy of the check-in
    ):
        assert any(fragment in text for text in shown), fragment
    headers = [
        b["text"]["text"] for m in channel.messages for b in m.blocks or [] if b["type"] == "header"
    ]
    assert f"Welcome, {HOSTILE}" in headers  # plain text: shown as written, not as entities


async def test_the_scan_catches_raw_markup(sandbox, bot, people) -> None:
    """The scan itself: a message with a raw value in it is found."""
    await bot.services.client.chat_postMessage(channel=people.csm.id, text=f"Hi {HOSTILE}")
    assert [text for _where, text, _problems in unescaped(sandbox, [])] == [f"Hi {HOSTILE}"]


def test_the_driver_sends_what_the_manifest_asks_slack_for() -> None:
    """SlackDriver.command escapes like Slack because /baton sets should_escape."""
    (command,) = yaml.safe_load(MANIFEST.read_text())["features"]["slash_commands"]
    assert command["should_escape"] is True


async def test_slash_text_is_read_as_typed(driver, sandbox, bot, people) -> None:
    for crm_id, name in (("D-1", "AT&T"), ("D-2", "A<B Corp"), ("D-3", "Q&A > Ops")):
        reply = await closed_won(driver, deal(crm_id=crm_id, account_name=name))
        assert reply.status == 202, reply.text
    for typed, shown in (
        ("owner AT&T", "*AT&amp;T*"),
        ("owner at&t", "*AT&amp;T*"),
        ("owner a<b", "*A&lt;B Corp*"),
        ("owner q&a > ops", "*Q&amp;A &gt; Ops*"),
    ):
        answer = await ask(driver, people.manager, typed)
        assert answer.startswith(shown), (typed, answer)
    missing = await ask(driver, people.manager, "owner <b>&co")
    assert missing.startswith("I found no account matching “&lt;b&gt;&amp;co”")
    unknown = (await driver.command(people.manager, "<!channel>")).json["text"]
    assert "<!channel>" not in unknown


def test_like_wildcards_in_a_lookup_are_literal(db) -> None:
    def add(team: str, crm_id: str, name: str) -> None:
        db.run_sync(
            create_account,
            {
                "team_id": team,
                "crm_id": crm_id,
                "name": name,
                "contract_start": date(2027, 1, 4),
                "renewal_date": date(2028, 1, 4),
                "ae_email": "ana@example.test",
                "csm_email": "chen@example.test",
                "closed_at": datetime(2027, 1, 4, tzinfo=UTC),
                "arr": 0,
            },
        )

    for i, name in enumerate(("100% Co", "100 Co", "A_B", "AxB", "back\\slash", "backslash")):
        add("T1", f"D-{i}", name)
    add("T2", "D-9", "Plain Co")

    def names(team: str, text: str) -> list[str]:
        return [a.name for a in db.run_sync(search_accounts, team, text)]

    assert names("T1", "100%") == ["100% Co"]
    assert names("T1", "%") == ["100% Co"]
    assert names("T1", "_") == ["A_B"]
    assert names("T1", "a_") == ["A_B"]
    assert names("T1", "\\") == ["back\\slash"]
    assert names("T1", "k\\s") == ["back\\slash"]
    assert names("T1", "/") == []  # SQLAlchemy's escape character is literal too
    assert names("T2", "%") == []
    assert names("T2", "_") == []
