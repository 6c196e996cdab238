"""The `/baton` subcommand table, through the real app and the sandbox: every entry is in
the help (the reply and the App Home's modal), every entry is answered by its own handler,
and a typo gets the closest subcommand in one sentence."""

import json

import pytest

from bot.platform.commands import Commands
from bot.platform.kit import esc
from bot.platform.listening import WORKING
from bot.runtime.features import install_commands
from tests.helpers import opened_view

TABLE = install_commands(Commands())
NAMES = [sub.name for sub in TABLE]
# The help's order before the table existed (the demo transcript shows it).
TODAYS_ORDER = [
    *("owner", "week", "renewals", "pending", "cover", "assign", "reopen", "history"),
    *("new", "checkin", "renewed", "churned", "status", "stats", "pilot", "help"),
]


def typo(name: str) -> str:
    """The name with its middle letter left out: `ower`, `wek`, `chekin`."""
    middle = len(name) // 2
    return name[:middle] + name[middle + 1 :]


async def answer(driver, sandbox, user, text: str) -> str:  # noqa: ANN001
    """What the person finally sees: the ack's text, else what followed through
    response_url, else the title of the modal the command opened."""
    posts = len(sandbox.response_posts)
    reply = await driver.command(user, text)
    assert reply.status == 200, reply.text
    said = reply.json.get("text", "") if reply.text.strip().startswith("{") else reply.text
    if said and said != WORKING:
        return said
    later = [p for p in sandbox.response_posts[posts:] if p.user == user.id]
    if later:
        return str(later[0].body.get("text") or "")
    return f"modal: {opened_view(sandbox.workspace, user.id).view['title']['text']}"


def test_the_table_keeps_todays_help_order_and_says_who_may() -> None:
    assert NAMES == TODAYS_ORDER
    assert len({sub.rank for sub in TABLE}) == len(TABLE)
    assert all(sub.who_may and sub.what and sub.example.startswith("/baton ") for sub in TABLE)


async def test_the_running_bot_answers_from_the_whole_table(sim_bot) -> None:
    assert [sub.name for sub in sim_bot.services.commands] == NAMES


async def test_every_entry_is_in_the_help(sim_driver, sandbox, sim_bot, people) -> None:
    reply = (await sim_driver.command(people.manager, "help")).json
    shown = json.dumps(reply["blocks"])
    for sub in TABLE:
        usage = f"`/baton {esc(sub.usage)}`"
        assert usage in reply["text"], sub.name
        assert json.dumps(usage)[1:-1] in shown, sub.name
        assert json.dumps(sub.what)[1:-1] in shown, sub.name
    positions = [reply["text"].index(f"`/baton {esc(sub.usage)}`") for sub in TABLE]
    assert positions == sorted(positions)
    assert "I don't know" not in shown

    await sim_driver.open_home(people.manager)
    assert people.manager.id in sandbox.workspace.home_views
    await sim_driver.click(people.manager, "baton_help_open", block_id="home_actions", home=True)
    modal = json.dumps(opened_view(sandbox.workspace, people.manager.id).view)
    for sub in TABLE:
        assert json.dumps(f"`/baton {esc(sub.usage)}`")[1:-1] in modal, sub.name


@pytest.mark.parametrize("name", NAMES)
async def test_every_entry_dispatches_to_its_own_handler(
    name: str, sim_driver, sandbox, sim_bot, people
) -> None:
    said = await answer(sim_driver, sandbox, people.manager, name)
    assert "I don't know" not in said
    if name == "help":
        assert said.startswith("Baton commands:")
    else:
        assert not said.startswith("Baton commands:"), f"/baton {name} fell through to help"


@pytest.mark.parametrize("name", NAMES)
async def test_a_typo_gets_the_closest_subcommand(
    name: str, sim_driver, sandbox, sim_bot, people
) -> None:
    reply = (await sim_driver.command(people.ae, f"{typo(name).upper()} acme")).json
    usage = f"`/baton {esc(TABLE.get(name).usage)}`"
    assert reply["text"] == f"I don't know `{typo(name)}`. Did you mean `/baton {name}`?\n{usage}"
    assert reply["response_type"] == "ephemeral" and "blocks" not in reply


async def test_a_word_close_to_nothing_gets_the_help(sim_driver, sim_bot, people) -> None:
    reply = (await sim_driver.command(people.ae, "frobnicate <b>now</b>")).json
    assert "I don't know `frobnicate`. Here is what I can do:" in json.dumps(reply["blocks"])
    assert reply["text"].startswith("Baton commands:")
    reply = (await sim_driver.command(people.ae, "<b>")).json
    assert "I don't know `&lt;b&gt;`" in json.dumps(reply["blocks"])
