"""The tick inside `baton run`, health when the database is gone, response_url capture."""

from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.platform.settings import Settings, load_settings
from bot.runtime.runner import BotServer, make_services
from bot.runtime.server import make_web_app
from bot.sandbox import SlackSandbox
from bot.sandbox.driver import state_values
from storage import outbox
from storage.types import utcnow
from tests.helpers import until


async def test_the_scheduler_tick_delivers_due_messages(
    settings: Settings, sandbox: SlackSandbox, db, people
) -> None:
    db.run_sync(
        outbox.enqueue,
        outbox.OwedMessage(
            team_id=sandbox.workspace.team_id,
            dedupe_key="due",
            channel=people.csm.id,
            text="owed since a minute ago",
            due_at=utcnow() - timedelta(minutes=1),
        ),
    )
    server = BotServer(settings, ticker=True, tick_seconds=0.2)
    await server.start(host="127.0.0.1", port=0)
    try:
        dm = sandbox.workspace.dm_channel(people.csm.id)
        await until(lambda: bool(dm.messages))
        assert [m.text for m in dm.messages] == ["owed since a minute ago"]
    finally:
        await server.stop()


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    settings = load_settings(
        env_file=None,
        database_url="postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1",
    )
    services = make_services(settings)
    async with TestClient(TestServer(make_web_app(services, None))) as client:
        response = await client.get("/healthz")
        assert response.status == 503
        assert (await response.json())["database"] == "unreachable"


async def test_crm_webhook_without_a_secret_is_refused_with_a_reason() -> None:
    services = make_services(load_settings(env_file=None, database_url="sqlite:///:memory:"))
    async with TestClient(TestServer(make_web_app(services, None))) as client:
        response = await client.post("/crm/closed-won", data=b"{}")
        assert response.status == 503
        assert "BATON_WEBHOOK_SECRET" in (await response.json())["error"]


async def test_response_url_posts_are_captured(sandbox: SlackSandbox, people) -> None:
    dm = sandbox.workspace.dm_channel(people.ae.id)
    url = sandbox.response_url_for(people.ae.id, dm.id)
    response = await AsyncWebhookClient(url).send(text="only you see this")
    assert response.status_code == 200
    assert sandbox.response_posts[-1].body["text"] == "only you see this"
    assert sandbox.workspace.ephemerals[-1].text == "only you see this"
    bad = await AsyncWebhookClient(url).send(text="x", blocks=[{"type": "nonsense"}])
    assert bad.status_code == 400
    gone = await AsyncWebhookClient(url + "x").send(text="x")
    assert gone.status_code == 404


def test_submitted_values_are_shaped_as_slack_shapes_them() -> None:
    view = {
        "type": "modal",
        "blocks": [
            {
                "type": "input",
                "block_id": "goal",
                "label": {"type": "plain_text", "text": "G"},
                "element": {"type": "plain_text_input", "action_id": "v", "multiline": True},
            },
            {
                "type": "input",
                "block_id": "model",
                "label": {"type": "plain_text", "text": "M"},
                "element": {
                    "type": "static_select",
                    "action_id": "v",
                    "options": [{"text": {"type": "plain_text", "text": "A"}, "value": "a"}],
                },
            },
            {
                "type": "input",
                "block_id": "icp",
                "label": {"type": "plain_text", "text": "I"},
                "element": {
                    "type": "checkboxes",
                    "action_id": "v",
                    "options": [{"text": {"type": "plain_text", "text": "X"}, "value": "x"}],
                },
            },
            {
                "type": "input",
                "block_id": "day",
                "label": {"type": "plain_text", "text": "D"},
                "element": {"type": "datepicker", "action_id": "v"},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": "not an input"}},
        ],
    }
    values = state_values(view, {"goal": "Cut churn", "model": "a", "icp": ["x"], "day": None})
    assert values == {
        "goal": {"v": {"type": "plain_text_input", "value": "Cut churn"}},
        "model": {
            "v": {
                "type": "static_select",
                "selected_option": view["blocks"][1]["element"]["options"][0],
            }
        },
        "icp": {
            "v": {"type": "checkboxes", "selected_options": view["blocks"][2]["element"]["options"]}
        },
        "day": {"v": {"type": "datepicker", "selected_date": None}},
    }
