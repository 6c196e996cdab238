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
    client: AsyncWebClient  # for calls other than owed messages (retries rate limits)
    sender: AsyncWebClient  # the outbox's client: no automatic retries (see slack_client)

    def is_manager(self, user_id: str, account_manager: str | None = None) -> bool:
        return user_id in self.settings.managers or (
            account_manager is not None and user_id == account_manager
        )
