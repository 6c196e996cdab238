"""`POST /crm/closed-won` against hostile bodies and headers: always a 4xx with one
sentence, never a 5xx, never a row written, never a traceback in the logs."""

import json
import logging
import time

import pytest

from bot.runtime.runner import BotServer
from bot.sandbox import SlackDriver, SlackSandbox
from tests.handoff_helpers import WEBHOOK_SECRET, closed_won, deal, webhook_headers
from tests.helpers import assert_no_tracebacks, row_counts

JSON = "application/json"


def raw(text: str) -> bytes:
    return text.encode()


def deal_with(**fields: object) -> bytes:
    return json.dumps(deal(**fields)).encode()


DEEP = b"[" * 10_000 + b"]" * 10_000
DEEP_INSIDE = deal_with()[:-1] + b', "notes": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"

# (case, body, content type, status, the field a 422 names)
BODIES = [
    ("empty body", b"", JSON, 400, None),
    ("not json", b"crm_id=D-100", JSON, 400, None),
    ("truncated json", b'{"crm_id": ', JSON, 400, None),
    ("json array", b"[]", JSON, 422, "body"),
    ("json string", b'"deal"', JSON, 422, "body"),
    ("json null", b"null", JSON, 422, "body"),
    ("10,000-deep array", DEEP, JSON, 400, None),
    ("10,000-deep array in a field", DEEP_INSIDE, JSON, 400, None),
    ("invalid utf-8", b'{"crm_id": "D-\xff\xfe", "account_name": "Acme"}', JSON, 400, None),
    ("a 5000-digit number", raw('{"arr": 1' + "0" * 5000 + "}"), JSON, 400, None),
    ("wrong content type", deal_with(), "text/plain", 415, None),
    ("form content type", deal_with(), "application/x-www-form-urlencoded", 415, None),
    ("arr 1e400", deal_with()[:-1] + b', "arr": 1e400}', JSON, 422, "arr"),
    ("arr NaN", deal_with()[:-1] + b', "arr": NaN}', JSON, 422, "arr"),
    ("arr -Infinity", deal_with()[:-1] + b', "arr": -Infinity}', JSON, 422, "arr"),
    ("arr negative", deal_with(arr=-1), JSON, 422, "arr"),
    ("arr too big for the column", deal_with(arr=10**12), JSON, 422, "arr"),
    ("arr 1e20", deal_with(arr=1e20), JSON, 422, "arr"),
    ("arr string 1e3", deal_with(arr="1e3"), JSON, 422, "arr"),
    ("arr arabic digits", deal_with(arr="١٢٣"), JSON, 422, "arr"),
    ("arr bool", deal_with(arr=True), JSON, 422, "arr"),
    ("start year 1", deal_with(contract_start="0001-01-01"), JSON, 422, "contract_start"),
    (
        "start and renewal in year 1",
        deal_with(contract_start="0001-01-01", renewal_date="0001-06-01"),
        JSON,
        422,
        "contract_start",
    ),
    ("renewal 2200", deal_with(renewal_date="2200-01-01"), JSON, 422, "renewal_date"),
    ("renewal 1969", deal_with(renewal_date="1969-12-31"), JSON, 422, "renewal_date"),
    ("renewal 30 Feb", deal_with(renewal_date="2027-02-30"), JSON, 422, "renewal_date"),
    ("renewal +002027", deal_with(renewal_date="+002027-01-01"), JSON, 422, "renewal_date"),
    ("renewal basic format", deal_with(renewal_date="20280104"), JSON, 422, "renewal_date"),
    ("renewal week date", deal_with(renewal_date="2028-W01-1"), JSON, 422, "renewal_date"),
    ("renewal arabic digits", deal_with(renewal_date="٢٠٢٨-٠١-٠٤"), JSON, 422, "renewal_date"),
    ("renewal a number", deal_with(renewal_date=20280104), JSON, 422, "renewal_date"),
    (
        "start + term past 2199",
        deal_with(contract_start="2199-06-01", renewal_date=None),
        JSON,
        422,
        "renewal_date",
    ),
    (
        "start 9999 + term",
        deal_with(contract_start="9999-12-31", renewal_date=None, term_months=12),
        JSON,
        422,
        "contract_start",
    ),
    ("term ²", deal_with(term_months="²"), JSON, 422, "term_months"),
    ("term arabic digits", deal_with(term_months="١٢"), JSON, 422, "term_months"),
    ("term 1_2", deal_with(term_months="1_2"), JSON, 422, "term_months"),
    ("term huge", deal_with(term_months=10**30), JSON, 422, "term_months"),
    ("term float", deal_with(term_months=12.5), JSON, 422, "term_months"),
    ("name with NUL", deal_with(account_name="Acme\u0000"), JSON, 422, "account_name"),
    ("crm id with a lone surrogate", raw('{"crm_id": "D-\\ud800"}'), JSON, 422, "crm_id"),
    ("email with NUL", deal_with(ae_email="ana\u0000@example.test"), JSON, 422, "ae_email"),
    ("segment with NUL", deal_with(segment="\u0000"), JSON, 422, "segment"),
    ("name too long", deal_with(account_name="A" * 201), JSON, 422, "account_name"),
    ("crm id too long", deal_with(crm_id="D" * 65), JSON, 422, "crm_id"),
    ("email too long", deal_with(ae_email="a" * 320 + "@x.test"), JSON, 422, "ae_email"),
    ("url too long", deal_with(crm_url="https://x.test/" + "a" * 2000), JSON, 422, "crm_url"),
    ("crm id an object", deal_with(crm_id={"id": 1}), JSON, 422, "crm_id"),
    ("team id an object", deal_with(team_id={"id": 1}), JSON, 422, "team_id"),
    ("team id a list", deal_with(team_id=["T1"]), JSON, 422, "team_id"),
]


def sentence(text: str) -> bool:
    return bool(text) and "\n" not in text and text.rstrip().endswith(".") and len(text) < 300


@pytest.mark.parametrize(
    ("body", "content_type", "status", "field"),
    [case[1:] for case in BODIES],
    ids=[case[0] for case in BODIES],
)
async def test_hostile_bodies_get_a_4xx_sentence_and_write_nothing(
    driver: SlackDriver,
    bot: BotServer,
    sandbox: SlackSandbox,
    caplog,
    body: bytes,
    content_type: str,
    status: int,
    field: str | None,
) -> None:
    caplog.set_level(logging.WARNING)
    before = row_counts(bot.services.engine)
    reply = await driver.post(
        "/crm/closed-won", body, content_type, webhook_headers(body, WEBHOOK_SECRET)
    )
    assert reply.status == status, reply.text
    answer = reply.json
    assert answer["ok"] is False
    if status == 422:
        fields = {e["field"]: e["message"] for e in answer["errors"]}
        assert field in fields, fields
        assert all(sentence(message) for message in fields.values()), fields
    else:
        assert sentence(answer["error"]), answer
    assert row_counts(bot.services.engine) == before
    assert sandbox.calls_of("conversations.create") == []
    assert_no_tracebacks(caplog)


def _stamp() -> str:
    return str(int(time.time()))


# (case, X-Baton-Timestamp, X-Baton-Signature); None leaves the header out.
HEADERS = [
    ("timestamp abc", "abc", "good"),
    ("timestamp 1.5", "1.5", "good"),
    ("timestamp negative", "-1", "good"),
    ("timestamp 5000 digits", "9" * 5000, "good"),
    ("timestamp arabic digits", "١٧٠٠٠٠٠٠٠٠", "good"),
    ("timestamp empty", "", "good"),
    ("signature non-ascii", None, "v0=é" + "0" * 63),
    ("signature empty", None, ""),
    ("signature without v0", None, "0" * 64),
    ("both missing", "missing", "missing"),
]


@pytest.mark.parametrize(
    ("timestamp", "signature"), [case[1:] for case in HEADERS], ids=[case[0] for case in HEADERS]
)
async def test_malformed_signature_headers_are_a_clean_401(
    driver: SlackDriver, bot: BotServer, caplog, timestamp: str | None, signature: str
) -> None:
    caplog.set_level(logging.WARNING)
    body = deal_with()
    good = webhook_headers(body)
    headers = dict(good)
    if timestamp == "missing":
        headers = {}
    else:
        if timestamp is not None:
            headers["X-Baton-Timestamp"] = timestamp
        if signature != "good":
            headers["X-Baton-Signature"] = signature
    before = row_counts(bot.services.engine)
    reply = await driver.post("/crm/closed-won", body, JSON, headers)
    assert reply.status == 401, reply.text
    assert sentence(reply.json["error"])
    assert row_counts(bot.services.engine) == before
    assert_no_tracebacks(caplog)


async def test_a_sane_deal_still_goes_through(driver: SlackDriver, bot: BotServer, caplog) -> None:
    """The bounds are wide enough for real deals: the edges of the range are accepted."""
    caplog.set_level(logging.WARNING)
    reply = await closed_won(
        driver,
        deal(
            arr="999999999999.99",
            contract_start="2027-01-04",
            renewal_date="2199-12-31",
            term_months="120",
        ),
    )
    assert reply.status == 202, reply.text
    body = deal_with(crm_id="D-101", arr=120000.5)
    reply = await driver.post(
        "/crm/closed-won", body, "application/json; charset=utf-8", webhook_headers(body)
    )
    assert reply.status == 202, reply.text
    assert_no_tracebacks(caplog)
