"""The `/baton help` answer: every subcommand with an example."""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.kit import Block, context, header, section


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    what: str
    example: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "new", "new", "Start the handoff for a closed-won deal (without a CRM hook).", "/baton new"
    ),
    Subcommand(
        "checkin",
        "checkin <account>",
        "Log a check-in (the CSM's weekly one, or any time). Inside an account channel "
        "the account can be left out.",
        "/baton checkin acme",
    ),
    Subcommand(
        "renewed",
        "renewed <account> [new renewal date] [new ARR]",
        "Record a renewal: the next cycle is planned and the hand-back to the CSM posted. "
        "The date defaults to one more term, the ARR to today's.",
        "/baton renewed acme 2028-03-31 120k",
    ),
    Subcommand(
        "churned",
        "churned <account>",
        "Record a churn with its root cause; every nudge still owed stops.",
        "/baton churned acme",
    ),
    Subcommand("help", "help", "Show every command with an example.", "/baton help"),
)


def help_text() -> str:
    lines = [f"• `/baton {s.usage}` — {s.what} e.g. `{s.example}`" for s in SUBCOMMANDS]
    return "Baton commands:\n" + "\n".join(lines)


def help_blocks(preface: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if preface:
        blocks.append(section(preface))
    blocks.append(header("Baton commands"))
    for sub in SUBCOMMANDS:
        blocks.append(section(f"*`/baton {sub.usage}`*\n{sub.what}\n_Example:_ `{sub.example}`"))
    blocks.append(
        context(
            "Baton keeps one clear owner on every account, from closed-won "
            "to renewal. Answers here are only visible to you."
        )
    )
    return blocks
