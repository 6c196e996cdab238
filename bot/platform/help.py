"""The `/baton help` answer: every subcommand with an example."""

from __future__ import annotations

from dataclasses import dataclass

from bot.platform.kit import Block, context, esc, header, section


@dataclass(frozen=True)
class Subcommand:
    name: str
    usage: str
    what: str
    example: str


SUBCOMMANDS: tuple[Subcommand, ...] = (
    Subcommand(
        "owner",
        "owner <account | CRM id | #channel | @person>",
        "Who owns an account this week: phase, owners and why, next milestone, anything "
        "overdue, coverage. With a person: the accounts they own this week and in what role.",
        "/baton owner acme",
    ),
    Subcommand(
        "week",
        "week",
        "This week for your team: accounts changing hands, milestones due, overdue items, "
        "at-risk accounts.",
        "/baton week",
    ),
    Subcommand(
        "renewals",
        "renewals [days]",
        "Renewals coming up in the next 90 days (or as many as you say), with their owners.",
        "/baton renewals 30",
    ),
    Subcommand(
        "pending",
        "pending",
        "Handoff packets not complete yet, and what is missing.",
        "/baton pending",
    ),
    Subcommand(
        "cover",
        "cover @person with @backup until <date>",
        "While someone is away, their ownership answers and nudges go to the backup, marked "
        "as coverage. `cover @person off` ends it early.",
        "/baton cover @chen with @sam until 2027-01-15",
    ),
    Subcommand(
        "assign",
        "assign <account> ae|csm|am @person",
        "Reassign a role on an account (managers and workspace admins only; audited).",
        "/baton assign acme csm @sam",
    ),
    Subcommand(
        "reopen",
        "reopen <account> [#channel]",
        "Give an account a working channel again when its channel was archived, Baton was "
        "removed from it, or Slack would not let Baton create one: a new channel, or the one "
        "you name (invite @Baton first). Managers and workspace admins only.",
        "/baton reopen acme",
    ),
    Subcommand(
        "history",
        "history <account> [on <date>]",
        "Who owned the account when, with coverage and model changes; or on one day.",
        "/baton history acme on 2027-03-03",
    ),
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
    Subcommand(
        "status",
        "status",
        "Baton's own health here: the Slack token, messages owed, and anything failing "
        "(BATON_MANAGERS members and workspace admins).",
        "/baton status",
    ),
    Subcommand("help", "help", "Show every command with an example.", "/baton help"),
)


def help_text() -> str:
    lines = [f"• `/baton {esc(s.usage)}` — {s.what} e.g. `{s.example}`" for s in SUBCOMMANDS]
    return "Baton commands:\n" + "\n".join(lines)


def help_blocks(preface: str | None = None) -> list[Block]:
    blocks: list[Block] = []
    if preface:
        blocks.append(section(preface))
    blocks.append(header("Baton commands"))
    for sub in SUBCOMMANDS:
        blocks.append(
            section(f"*`/baton {esc(sub.usage)}`*\n{sub.what}\n_Example:_ `{sub.example}`")
        )
    blocks.append(
        context(
            "Baton keeps one clear owner on every account, from closed-won "
            "to renewal. Answers here are only visible to you."
        )
    )
    return blocks
