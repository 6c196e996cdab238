"""Helpers for the handoff tests: signed CRM webhooks and finding what Baton posted."""

import json
import time
from typing import Any

from bot.handoff.webhook_auth import signed_headers
from bot.sandbox import Reply, SlackDriver, Workspace
from bot.sandbox.state import Channel, Message

WEBHOOK_SECRET = "whsec-test"


def deal(**overrides: Any) -> dict[str, Any]:
    body = {
        "crm_id": "D-100",
        "account_name": "Acme Robotics",
        "arr": 80000,
        "contract_start": "2027-01-04",
        "renewal_date": "2028-01-04",
        "ae_email": "ana@example.test",
        "csm_email": "chen@example.test",
        "manager_email": "maya@example.test",
        "crm_url": "https://crm.example.test/deals/100",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


_last_stamp = 0


def fresh_stamp() -> int:
    """A signing time later than the last one: a CRM signs each delivery anew, and Baton
    refuses a repeated signature and orders CRM news by signing time."""
    global _last_stamp
    now = int(time.time())
    _last_stamp = now if _last_stamp + 1 > now + 200 else max(now, _last_stamp + 1)
    return _last_stamp


def webhook_headers(body: bytes, secret: str = WEBHOOK_SECRET, stamp: int | None = None) -> dict:
    return signed_headers(secret, body, fresh_stamp() if stamp is None else stamp)


async def closed_won(driver: SlackDriver, body: Any, **kwargs: Any) -> Reply:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return await driver.post(
        "/crm/closed-won", raw, "application/json", webhook_headers(raw, **kwargs)
    )


def account_channel(workspace: Workspace, name: str = "acct-acme-robotics") -> Channel:
    channel = workspace.channel_by_name(name)
    assert channel is not None, (
        f"no #{name}; channels: {[c.name for c in workspace.channels.values()]}"
    )
    return channel


def texts(channel: Channel) -> list[str]:
    return [m.text for m in channel.messages]


def find(channel: Channel, fragment: str) -> Message:
    for message in channel.messages:
        if fragment in message.text or fragment in json.dumps(
            message.blocks or [], ensure_ascii=False
        ):
            return message
    raise AssertionError(f"nothing with {fragment!r} in #{channel.name}: {texts(channel)}")


def stale_stamp() -> int:
    return int(time.time()) - 301
