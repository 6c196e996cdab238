"""What every listener and job needs, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine

from bot.clock import Clock
from bot.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    engine: Engine
    clock: Clock
    sender: AsyncWebClient  # the outbox's client: no automatic retries (see slack_client)
