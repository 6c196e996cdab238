"""Admin's listeners: `/baton status`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.admin.status import status_answer
from bot.platform.commands import Answer, Subcommand
from bot.platform.listening import answered
from bot.platform.services import Services


async def _status(services: Services, text: str, command: dict) -> Answer:
    return await status_answer(services, command["team_id"], command["user_id"]), []


SUBCOMMANDS = (
    Subcommand(
        "status",
        "status",
        "Baton's own health here: the Slack token, messages owed, and anything failing "
        "(BATON_MANAGERS members and workspace admins).",
        "/baton status",
        "BATON_MANAGERS members and workspace admins",
        answered(_status),
        rank=130,
    ),
)


def register(app: AsyncApp, services: Services) -> None:
    """Nothing but its subcommand (added to the table by `bot.runtime.features`)."""
