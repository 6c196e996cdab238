"""Listeners, one module per kind, each with a register(app, services)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.listeners import actions, commands, events, home, views
from bot.platform.services import Services


def register(app: AsyncApp, services: Services) -> None:
    for module in (commands, actions, views, events, home):
        module.register(app, services)
