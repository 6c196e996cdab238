"""`/baton …`: the one slash listener, dispatching from the subcommand table.

A word Baton doesn't know gets the closest subcommand ("Did you mean …?") with its usage
line, or, when nothing is close, the help.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.platform.commands import Commands, Slash, Subcommand
from bot.platform.help import did_you_mean, help_blocks, help_text, unknown_preface
from bot.platform.kit import slash_text
from bot.platform.listening import services_of
from bot.platform.services import Services


def split_subcommand(text: str) -> tuple[str, str]:
    words = text.strip().split(maxsplit=1)
    if not words:
        return "help", ""
    return words[0].lower(), words[1] if len(words) > 1 else ""


async def baton(ack: AsyncAck, respond: AsyncRespond, command: dict, context: dict) -> None:
    services = services_of(context)
    # The one place slash text enters: every subcommand reads it as the person typed it.
    name, rest = split_subcommand(slash_text(command.get("text", "")))
    sub = services.commands.get(name)
    if sub is not None:
        await sub.handler(Slash(services, ack, respond, command, rest))
        return
    await ack(response_type="ephemeral", **unknown(services.commands, name))


def unknown(commands: Commands, name: str) -> dict:
    meant = commands.closest(name)
    if meant is not None:
        return {"text": did_you_mean(name, meant)}
    return {"text": help_text(commands), "blocks": help_blocks(commands, unknown_preface(name))}


async def _help(call: Slash) -> None:
    commands = call.services.commands
    await call.ack(
        response_type="ephemeral", text=help_text(commands), blocks=help_blocks(commands)
    )


SUBCOMMANDS = (
    Subcommand(
        "help",
        "help",
        "Show every command with an example.",
        "/baton help",
        "anyone in the workspace",
        _help,
        rank=140,
    ),
)


def register(app: AsyncApp, services: Services) -> None:
    app.command("/baton")(baton)
