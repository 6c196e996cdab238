"""Deals that arrive together are taken in one transaction (a group commit), and every
guarantee of one deal alone still holds: one account per deal, a replay refused, an item
that fails failing only its own caller."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver
from storage.group_commit import GroupCommit
from storage.models import Account, WebhookReceipt
from storage.receipts import first_receipts
from tests.helpers import deal, fresh_stamp, webhook_headers

NOW = datetime(2027, 1, 4, 12, tzinfo=UTC)


def _receipts(session, signatures: list[str]) -> list[bool]:  # noqa: ANN001
    if "poison" in signatures:
        raise ValueError("poison")
    return first_receipts(session, [("T1", s) for s in signatures], NOW)


def _count(session, model) -> int:  # noqa: ANN001
    return session.execute(select(func.count()).select_from(model)).scalar_one()


async def test_items_that_arrive_together_share_one_transaction(db) -> None:
    groups: list[int] = []

    def unit(session, signatures: list[str]) -> list[bool]:  # noqa: ANN001
        groups.append(len(signatures))
        return _receipts(session, signatures)

    commit = GroupCommit(db, unit)
    taken = await asyncio.gather(*(commit.run(f"sig-{n % 4}") for n in range(8)))
    assert groups == [8]
    assert taken == [True] * 4 + [False] * 4  # a signature twice: the first takes it
    assert db.run_sync(_count, WebhookReceipt) == 4


async def test_an_item_that_fails_fails_only_its_own_caller(db) -> None:
    commit = GroupCommit(db, _receipts)
    answers = await asyncio.gather(
        *(commit.run(s) for s in ("a", "poison", "b")), return_exceptions=True
    )
    assert answers[0] is True and answers[2] is True
    assert isinstance(answers[1], ValueError)
    assert db.run_sync(_count, WebhookReceipt) == 2  # the others were committed


@pytest.fixture
async def queued_bot(settings) -> BotServer:  # noqa: ANN001
    """As `baton run` serves the webhook: answered once committed, set-up queued."""
    server = BotServer(settings, ticker=False)
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.fixture
async def crm(queued_bot: BotServer, sandbox, settings) -> SlackDriver:  # noqa: ANN001
    driver = SlackDriver(sandbox, queued_bot.url, settings.slack_signing_secret)
    yield driver
    await driver.close()


def _post(crm: SlackDriver, raw: bytes, headers: dict[str, str]):  # noqa: ANN202
    return crm.post("/crm/closed-won", raw, "application/json", headers)


async def test_one_deal_delivered_twice_at_once_is_one_account(
    crm: SlackDriver, queued_bot: BotServer
) -> None:
    raw = json.dumps(deal()).encode()
    first, second = await asyncio.gather(
        _post(crm, raw, webhook_headers(raw, stamp=fresh_stamp())),
        _post(crm, raw, webhook_headers(raw, stamp=fresh_stamp())),
    )
    assert first.status == second.status == 202, (first.text, second.text)
    assert first.json["account_id"] == second.json["account_id"]
    assert sorted([first.json["created"], second.json["created"]]) == [False, True]
    assert queued_bot.services.db.run_sync(_count, Account) == 1


async def test_a_replay_beside_its_original_is_refused_and_writes_nothing(
    crm: SlackDriver, queued_bot: BotServer
) -> None:
    raw = json.dumps(deal()).encode()
    headers = webhook_headers(raw, stamp=fresh_stamp())
    answers = await asyncio.gather(_post(crm, raw, headers), _post(crm, raw, headers))
    assert sorted(a.status for a in answers) == [202, 409], [a.text for a in answers]
    db = queued_bot.services.db
    assert db.run_sync(_count, Account) == 1 and db.run_sync(_count, WebhookReceipt) == 1


async def test_a_burst_of_deals_is_one_account_each(
    crm: SlackDriver, queued_bot: BotServer
) -> None:
    bodies = [
        json.dumps(deal(crm_id=f"D-{n}", account_name=f"Account {n}")).encode() for n in range(30)
    ]
    answers = await asyncio.gather(*(_post(crm, raw, webhook_headers(raw)) for raw in bodies))
    assert [a.status for a in answers] == [202] * 30
    assert all(a.json["created"] and a.json["setup"] == "queued" for a in answers)
    assert len({a.json["account_id"] for a in answers}) == 30
    assert queued_bot.services.db.run_sync(_count, Account) == 30
