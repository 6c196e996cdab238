"""A database outage while Baton serves: the webhook says "retry later" (503 with
Retry-After), Slack gets its acknowledgement (and a sentence where Slack shows one), and
each failure is one log line, not a traceback.

The server is Baton's own web app (the one `baton run` serves) on a database that is not
there: PostgreSQL at a closed port, or a SQLite file whose directory was removed. Both
work whichever database the suite runs on."""

import json
import logging
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from bot.checkins.blocks import CHECKIN_VIEW
from bot.handoff.blocks import ACKNOWLEDGE
from bot.platform.services import Services
from bot.platform.settings import load_settings
from bot.renewal.blocks import DONE_VIEW
from bot.runtime.app import OUTAGE, build_app
from bot.runtime.runner import make_services
from bot.runtime.server import make_web_app
from bot.sandbox import SlackDriver, SlackSandbox, sign
from tests.handoff_helpers import closed_won, deal, webhook_headers
from tests.helpers import assert_no_tracebacks, free_port, until
from tests.test_hostile_slack import VALID_STATE, World, event_body, form, interactive


@dataclass
class Outage:
    services: Services
    driver: SlackDriver
    world: World


@pytest.fixture(params=["postgresql-closed-port", "sqlite-directory-removed"])
async def outage(
    request, sandbox: SlackSandbox, signing_secret: str, tmp_path: Path, people
) -> AsyncIterator[Outage]:
    folder = tmp_path / "db"
    if request.param == "postgresql-closed-port":
        url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/baton"
    else:
        folder.mkdir()
        url = f"sqlite:///{folder / 'baton.db'}"
    settings = load_settings(
        env_file=None,
        slack_bot_token=sandbox.workspace.bot_token,
        slack_signing_secret=signing_secret,
        slack_api_url=sandbox.api_url,
        database_url=url,
        baton_webhook_secret="whsec-test",
    )
    services = make_services(settings)
    shutil.rmtree(folder, ignore_errors=True)  # gone before the first connection
    runner = web.AppRunner(make_web_app(services, build_app(services)), handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    driver = SlackDriver(sandbox, f"http://127.0.0.1:{port}", signing_secret)
    yield Outage(services, driver, World(sandbox, people, 1, 1))
    await driver.close()
    await runner.cleanup()
    services.engine.dispose()


async def test_the_webhook_answers_503_with_retry_after(outage: Outage, caplog) -> None:
    caplog.set_level(logging.WARNING)
    reply = await closed_won(outage.driver, deal())
    assert reply.status == 503, reply.text
    assert reply.json == {
        "ok": False,
        "error": "Baton's database is unavailable right now; retry later.",
    }
    unsigned = await outage.driver.post("/crm/closed-won", b"{}", "application/json", {})
    assert unsigned.status == 401  # refused before the database is asked
    raw = json.dumps(deal()).encode()
    async with outage.driver._http().post(  # the driver's Reply has no headers
        outage.driver.bot_url + "/crm/closed-won",
        data=raw,
        headers={"Content-Type": "application/json", **webhook_headers(raw)},
    ) as resp:
        assert resp.status == 503
        assert int(resp.headers["Retry-After"]) > 0
    assert (await outage.driver.get("/healthz")).status == 503
    lines = [r for r in caplog.records if "database is unavailable" in r.getMessage()]
    assert lines and all("\n" not in r.getMessage() for r in lines)
    assert_no_tracebacks(caplog)


async def test_slack_requests_are_acknowledged_with_a_sentence(outage: Outage, caplog) -> None:
    caplog.set_level(logging.WARNING)
    w, driver = outage.world, outage.driver

    async def signed(body: bytes, content_type: str):  # noqa: ANN202
        return await driver.post(
            "/slack/events", body, content_type, sign(driver.signing_secret, body)
        )

    # A slash command fails before its ack: the person reads why.
    reply = await signed(*form(w.command("owner Acme")))
    assert reply.status == 200
    assert reply.json == {"response_type": "ephemeral", "text": OUTAGE}
    # A modal checked against the database before its ack keeps its inputs, with the why.
    submission = w.submission(CHECKIN_VIEW, '{"account_id": 1}', VALID_STATE[CHECKIN_VIEW])
    submission["view"]["blocks"] = [
        {"type": "input", "block_id": block} for block in VALID_STATE[CHECKIN_VIEW]
    ]
    reply = await signed(*interactive(submission))
    assert reply.status == 200
    assert reply.json == {"response_action": "errors", "errors": {"checkin_date": OUTAGE}}
    # A click, a modal acknowledged first, and an event: acknowledged, then one log line each.
    logged = len(caplog.records)
    for body in (
        interactive(w.click(ACKNOWLEDGE, "1")),
        interactive(w.submission(DONE_VIEW, '{"milestone_id": 1}', VALID_STATE[DONE_VIEW])),
        event_body(w.event({"type": "app_home_opened", "user": w.people.ae.id, "tab": "home"})),
    ):
        reply = await signed(*body)
        assert reply.status == 200, body[0][:80]

    def outage_lines() -> list[logging.LogRecord]:
        return [r for r in caplog.records[logged:] if "database outage" in r.getMessage()]

    await until(lambda: len(outage_lines()) == 3)
    assert all("\n" not in r.getMessage() for r in outage_lines())
    assert_no_tracebacks(caplog)
