"""The `/baton help` answer: every subcommand in the table, with an example."""

from __future__ import annotations

from bot.platform.commands import Commands, Subcommand
from bot.platform.kit import Block, context, esc, header, section


def usage_line(sub: Subcommand) -> str:
    return f"`/baton {esc(sub.usage)}`"


def help_text(commands: Commands) -> str:
    lines = [f"• {usage_line(s)} — {s.what} e.g. `{s.example}`" for s in commands]
    return "Baton commands:\n" + "\n".join(lines)


def help_blocks(commands: Commands, preface: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if preface:
        blocks.append(section(preface))
    blocks.append(header("Baton commands"))
    for sub in commands:
        blocks.append(section(f"*{usage_line(sub)}*\n{sub.what}\n_Example:_ `{sub.example}`"))
    blocks.append(
        context(
            "Baton keeps one clear owner on every account, from closed-won "
            "to renewal. Answers here are only visible to you."
        )
    )
    return blocks


def did_you_mean(word: str, meant: Subcommand) -> str:
    """One sentence for a word Baton doesn't know but can guess, and the usage line."""
    return (
        f"I don't know `{esc(word[:40])}`. Did you mean `/baton {meant.name}`?\n{usage_line(meant)}"
    )


def unknown_preface(word: str) -> str:
    return f"I don't know `{esc(word[:40])}`. Here is what I can do:"
