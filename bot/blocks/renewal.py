"""Block Kit for renewal milestones: the nudge, its buttons, and what they post."""

from __future__ import annotations

import json
from typing import Any

from bot.blocks.handoff import who
from bot.blocks.kit import Block, actions, button, context, input_block, modal, section
from storage.models import Account, Milestone

DONE = "baton_milestone_done"
SNOOZE = "baton_milestone_snooze"
HELP = "baton_milestone_help"
DONE_VIEW = "baton_milestone_done_view"
SNOOZE_DAYS = {"1": "1 day", "3": "3 days", "7": "1 week"}
ROLE_NAMES = {"csm": "CSM", "ae": "AE", "am": "AM", "ops": "Ops"}


def owner_names(account: Account, roles: list[str]) -> str:
    names = []
    for role in roles:
        if role == "ops":
            names.append("Ops")
        else:
            names.append(
                f"{who(account.user_of(role), getattr(account, f'{role}_email', None))} "
                f"({ROLE_NAMES[role]})"
            )
    return ", ".join(names)


def nudge_blocks(
    account: Account, milestone: Milestone, activity: str, goal: str, silent: list[str]
) -> list[Block]:
    lines = [
        f"*{milestone.title}* for *{account.name}* is due *{milestone.due_date:%a %d %b %Y}* "
        f"(renewal {account.renewal_date:%d %b %Y}).",
        activity,
        f"_Goal:_ {goal}" if goal else "",
        f"Owners: {owner_names(account, milestone.owners)}.",
    ]
    if silent:
        lines.append(f"{', '.join(ROLE_NAMES[r] for r in silent)} attends silent.")
    value = str(milestone.id)
    return [
        section("\n".join(line for line in lines if line)),
        actions(
            button("Done", DONE, value, style="primary"),
            *(
                button(f"Snooze {label}", f"{SNOOZE}_{days}", value)
                for days, label in SNOOZE_DAYS.items()
            ),
            button("Need help", HELP, value),
            block_id=f"milestone_{milestone.id}_{milestone.snoozes}",
        ),
    ]


def done_modal(account: Account, milestone: Milestone) -> dict[str, Any]:
    return modal(
        "Milestone done",
        [
            section(f"*{milestone.title}* for *{account.name}*"),
            input_block(
                "outcome",
                "Outcome",
                {"type": "plain_text_input", "multiline": True, "max_length": 3000},
                hint="A line or two for the record: what happened, what was agreed.",
            ),
        ],
        callback_id=DONE_VIEW,
        submit="Done",
        private_metadata=json.dumps({"milestone_id": milestone.id}),
    )


def done_text(account: Account, milestone: Milestone, user_id: str, outcome: str) -> str:
    return f":white_check_mark: *{milestone.title}* for *{account.name}* done by {who(user_id)}: {outcome}"


def help_text(account: Account, milestone: Milestone, user_id: str, managers: list[str]) -> str:
    asked = " ".join(who(m) for m in managers) or "a manager"
    return (
        f":sos: {who(user_id)} needs help with *{milestone.title}* for *{account.name}* "
        f"(due {milestone.due_date:%d %b}). {asked}, can you step in?"
    )


def escalation_text(account: Account, milestone: Milestone) -> str:
    return (
        f"Nobody has acknowledged *{milestone.title}* for *{account.name}* (due "
        f"{milestone.due_date:%d %b %Y}) in two business days. Owners: "
        f"{owner_names(account, milestone.owners)}."
    )


def channel_note(account: Account, milestone: Milestone) -> list[Block]:
    return [
        section(
            f"Renewal milestone: *{milestone.title}* is due "
            f"*{milestone.due_date:%a %d %b}*. Owners: "
            f"{owner_names(account, milestone.owners)}."
        ),
        context("The owners have the Done / Snooze / Need help buttons in their DMs."),
    ]
