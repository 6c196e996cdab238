"""Stats' listeners: `/baton stats`."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.platform.commands import Answer, Subcommand
from bot.platform.listening import answered
from bot.platform.services import Services
from bot.stats.answer import stats_answer
from bot.stats.pilot import pilot_answer
from flows.pilot import USAGE as PILOT_USAGE
from flows.stats_args import USAGE


async def _stats(services: Services, text: str, command: dict) -> Answer:
    return await stats_answer(services, command["team_id"], command["user_id"], text), []


async def _pilot(services: Services, text: str, command: dict) -> Answer:
    return await pilot_answer(services, command["team_id"], command["user_id"], text), []


SUBCOMMANDS = (
    Subcommand(
        "stats",
        USAGE.removeprefix("/baton "),
        "The handoff's numbers: packet completion and rating, time to first value, churn "
        "causes and timing, milestones on time, renewal and expansion by model, and the "
        "alerts in force (managers and workspace admins).",
        "/baton stats 180 B",
        "managers and workspace admins",
        answered(_stats),
        rank=135,
    ),
    Subcommand(
        "pilot",
        PILOT_USAGE.removeprefix("/baton "),
        "Retention-model pilots: start one on a cohort of accounts (managers and workspace "
        "admins), then compare it with the rest of the book: renewal, expansion, escalations "
        "and nudges answered on time, each with its sample.",
        "/baton pilot start q3-model-b B Acme Robotics, Globex, #acct-initech",
        "managers and workspace admins",
        answered(_pilot),
        rank=136,
    ),
)


def register(app: AsyncApp, services: Services) -> None:
    """Nothing but its subcommand (added to the table by `bot.runtime.features`)."""
