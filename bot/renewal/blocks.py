"""Block Kit for renewal milestones: the nudge, its buttons, and what they post."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.platform.kit import (
    Block,
    actions,
    button,
    context,
    esc,
    input_block,
    modal,
    plain,
    section,
    text_input,
    who,
)
from flows.close import CLOSE_STEP, REASON_MAX, latest_close
from flows.health import HEALTH_LABELS, Health
from flows.outcomes import CHURN_REASON_NAMES
from flows.ownership import ROLE_NAMES
from storage.models import Account, HealthFlag, Milestone, RenewalOutcome

DONE = "baton_milestone_done"
SNOOZE = "baton_milestone_snooze"
HELP = "baton_milestone_help"
DONE_VIEW = "baton_milestone_done_view"
CHECKLIST_VIEW = "baton_milestone_checklist_view"
ASK_MORE = "baton_milestone_ask_more"
ASK_MORE_VIEW = "baton_milestone_ask_more_view"
LINE_MAX = 300  # a one-line answer
FLAG = "baton_health_flag"
FLAG_VIEW = "baton_health_flag_view"
RENEWED = "baton_renewed"
RENEWED_VIEW = "baton_renewed_view"
CHURNED = "baton_churned"
CHURNED_VIEW = "baton_churned_view"
HANDBACK_HELD = "baton_handback_held"
SIGNED = "baton_close_signed"
NOT_YET = "baton_close_not_yet"
NOT_YET_VIEW = "baton_close_not_yet_view"
LATE_BLOCK = "late"
FLAG_STEP = "month-5"
OUTCOME_STEPS = ("day-30", "day-7")
SNOOZE_DAYS = {"1": "1 day", "3": "3 days", "7": "1 week"}


def owner_names(account: Account, roles: list[str], ops: str | None = None) -> str:
    """The owners of a step by name and role; `ops`: the account's Ops person
    (bot.accounts.ops.ops_user), None when it has none."""
    names = []
    for role in roles:
        if role == "ops":
            names.append(f"{who(ops)} (Ops)" if ops else "no Ops owner set (the CSM stands in)")
        else:
            names.append(
                f"{who(account.user_of(role), getattr(account, f'{role}_email', None))} "
                f"({ROLE_NAMES[role]})"
            )
    return ", ".join(names)


def no_ops_line(account: Account, milestone: Milestone, ops: str | None) -> str:
    """Said on an Ops step while the account has no Ops person: why the CSM has it."""
    if "ops" not in milestone.owners or ops:
        return ""
    return (
        f":warning: No Ops owner is set for *{esc(account.name)}*: this Ops step goes to the "
        "CSM until the CRM names one (ops_email) or BATON_OPS_USERS does."
    )


def nudge_blocks(
    account: Account,
    milestone: Milestone,
    activity: str,
    goal: str,
    silent: list[str],
    ops: str | None = None,
) -> list[Block]:
    lines = [
        f"*{milestone.title}* for *{esc(account.name)}* is due *{milestone.due_date:%a %d %b %Y}* "
        f"(renewal {account.renewal_date:%d %b %Y}).",
        activity,
        f"_Goal:_ {goal}" if goal else "",
        f"Owners: {owner_names(account, milestone.owners, ops)}.",
        no_ops_line(account, milestone, ops),
    ]
    if silent:
        lines.append(f"{', '.join(ROLE_NAMES[r] for r in silent)} attends silent.")
    value = str(milestone.id)
    if milestone.key == FLAG_STEP:
        first = [button("Flag health", FLAG, value, style="primary")]
    elif milestone.key == CLOSE_STEP:
        first = [
            button("Signed", SIGNED, value, style="primary"),
            button("Not yet", NOT_YET, value),
        ]
    elif milestone.key in OUTCOME_STEPS:
        first = [
            button("Done", DONE, value, style="primary"),
            button("Renewed", RENEWED, str(account.id)),
            button("Churned", CHURNED, str(account.id), style="danger"),
        ]
    else:
        first = [button("Done", DONE, value, style="primary")]
    return [
        section("\n".join(line for line in lines if line)),
        actions(
            *first,
            *(
                button(f"Snooze {label}", f"{SNOOZE}_{days}", value)
                for days, label in SNOOZE_DAYS.items()
            ),
            button("Need help", HELP, value),
            block_id=f"milestone_{milestone.id}_{milestone.round}",
        ),
    ]


def done_modal(account: Account, milestone: Milestone, line: bool = False) -> dict[str, Any]:
    """Done with an outcome: a line or two, or (`line`, a ritual's answer) one line."""
    answer = (
        input_block(
            "outcome",
            "Answer",
            text_input(multiline=False, limit=LINE_MAX),
            hint="One line for the record; it is posted in the account channel.",
        )
        if line
        else input_block(
            "outcome",
            "Outcome",
            text_input(),
            hint="A line or two for the record: what happened, what was agreed.",
        )
    )
    return modal(
        "Milestone done",
        [section(f"*{milestone.title}* for *{esc(account.name)}*"), answer],
        callback_id=DONE_VIEW,
        submit="Done",
        private_metadata=json.dumps({"milestone_id": milestone.id}),
    )


def checklist_modal(
    account: Account, milestone: Milestone, items: list[str], to: str
) -> dict[str, Any]:
    """Done as a checklist: what is handed over (to the `to` role), and a note."""
    options = [{"text": plain(item, 75), "value": str(n)} for n, item in enumerate(items)]
    return modal(
        "Milestone done",
        [
            section(
                f"*{milestone.title}* for *{esc(account.name)}*: tick what you hand the "
                f"{ROLE_NAMES[to]} now."
            ),
            input_block(
                "checklist",
                "Handed over",
                {"type": "checkboxes", "options": options},
                optional=True,
            ),
            input_block(
                "outcome",
                "Note",
                text_input(multiline=False, limit=LINE_MAX),
                optional=True,
                hint="Where to find them, or when the rest comes.",
            ),
        ],
        callback_id=CHECKLIST_VIEW,
        submit="Done",
        private_metadata=json.dumps({"milestone_id": milestone.id}),
    )


def handed_over_blocks(
    account: Account, milestone: Milestone, user_id: str, outcome: str
) -> list[Block]:
    """What the `to` role gets: the handover, and a button to ask for more."""
    return [
        section(
            f":package: {who(user_id)} handed you *{milestone.title}* for "
            f"*{esc(account.name)}*: {esc(outcome)}"
        ),
        actions(
            button("Ask for more", ASK_MORE, str(milestone.id)),
            block_id=f"handed_over_{milestone.id}",
        ),
    ]


def ask_more_modal(account: Account, milestone: Milestone) -> dict[str, Any]:
    return modal(
        "Ask for more",
        [
            section(f"*{milestone.title}* for *{esc(account.name)}*"),
            input_block(
                "ask",
                "What else do you need?",
                text_input(multiline=False, limit=LINE_MAX),
                hint="One line; it goes to whoever handed it over, by DM.",
            ),
        ],
        callback_id=ASK_MORE_VIEW,
        submit="Ask",
        private_metadata=json.dumps({"milestone_id": milestone.id}),
    )


def ask_more_text(account: Account, milestone: Milestone, user_id: str, ask: str) -> str:
    return (
        f":mag: {who(user_id)} asks for more on *{milestone.title}* for "
        f"*{esc(account.name)}*: {esc(ask)}"
    )


def done_text(account: Account, milestone: Milestone, user_id: str, outcome: str) -> str:
    return (
        f":white_check_mark: *{milestone.title}* for *{esc(account.name)}* done by "
        f"{who(user_id)}: {esc(outcome)}"
    )


def help_text(account: Account, milestone: Milestone, user_id: str, managers: list[str]) -> str:
    asked = " ".join(who(m) for m in managers) or "a manager"
    return (
        f":sos: {who(user_id)} needs help with *{milestone.title}* for *{esc(account.name)}* "
        f"(due {milestone.due_date:%d %b}). {asked}, can you step in?"
    )


def escalation_text(account: Account, milestone: Milestone, ops: str | None = None) -> str:
    return (
        f"Nobody has acknowledged *{milestone.title}* for *{esc(account.name)}* (due "
        f"{milestone.due_date:%d %b %Y}) in two business days. Owners: "
        f"{owner_names(account, milestone.owners, ops)}."
    )


def channel_note(account: Account, milestone: Milestone, ops: str | None = None) -> list[Block]:
    return [
        section(
            f"Renewal milestone: *{milestone.title}* is due "
            f"*{milestone.due_date:%a %d %b}*. Owners: "
            f"{owner_names(account, milestone.owners, ops)}."
        ),
        context("The owners have the Done / Snooze / Need help buttons in their DMs."),
    ]


def late_label(due: date, skipped: list[Milestone]) -> str:
    text = f":hourglass: Late: this was due on {due:%a %d %b %Y}; Baton could not send it then."
    if skipped:
        missed = "; ".join(f"{m.title} (due {m.due_date:%d %b})" for m in skipped)
        text += f" Also missed meanwhile, now skipped: {missed}."
    return text


def labelled_late(text: str, blocks: list[Block] | None, label: str) -> tuple[str, list[Block]]:
    """The same message with the late label first (replacing an earlier label)."""
    kept = [b for b in blocks or [] if b.get("block_id") != LATE_BLOCK]
    if not blocks:
        kept = [section(text)]
    first_line = text.split("\n", 1)[0]
    return f"Late: {first_line}", [{**context(label), "block_id": LATE_BLOCK}, *kept]


def flag_modal(account: Account, milestone_id: int, flag: HealthFlag | None) -> dict[str, Any]:
    options = [{"text": plain(HEALTH_LABELS[h], 75), "value": h.value} for h in Health]
    health: dict[str, Any] = {"type": "radio_buttons", "options": options}
    if flag is not None:
        health["initial_option"] = next(o for o in options if o["value"] == flag.health)

    return modal(
        "Month-5 health flag",
        [
            section(
                f"*{esc(account.name)}*, renewal {account.renewal_date:%d %b %Y}. Flag it now so "
                "no churn signal stays hidden going into the renewal."
            ),
            input_block("health", "Health", health),
            input_block(
                "risks",
                "Churn-risk reasons",
                text_input(flag.risks if flag else None, limit=2000),
                optional=True,
                hint="Required for yellow or red: what could make them leave?",
            ),
            input_block(
                "expansion",
                "Expansion opportunities",
                text_input(flag.expansion if flag else None, limit=2000),
                optional=True,
                hint="Seats, modules, teams: what the business case can propose.",
            ),
        ],
        callback_id=FLAG_VIEW,
        submit="Post flag",
        private_metadata=json.dumps({"milestone_id": milestone_id}),
    )


def flag_blocks(account: Account, flag: HealthFlag) -> list[Block]:
    lines = [
        f"*Month-5 health flag for {esc(account.name)}:* {HEALTH_LABELS[Health(flag.health)]}",
        f"*Churn-risk reasons:* {esc(flag.risks)}" if flag.risks else "",
        f"*Expansion opportunities:* {esc(flag.expansion)}" if flag.expansion else "",
    ]
    return [
        section("\n".join(line for line in lines if line)),
        context(f"Flagged by {who(flag.flagged_by)} · renewal {account.renewal_date:%d %b %Y}"),
    ]


def business_case_task(account: Account, flag: HealthFlag, due: date | None) -> list[Block]:
    when = f" by *{due:%a %d %b}*" if due else ""
    return [
        section(
            f"Your month-6 task for *{esc(account.name)}*: prepare the renewal business case"
            f"{when}, from the CSM's month-5 flag below."
        ),
        *flag_blocks(account, flag),
    ]


def red_flag_text(account: Account, flag: HealthFlag, phase_end: date) -> str:
    return (
        f":red_circle: *{esc(account.name)}* was flagged red at month 5 by "
        f"{who(flag.flagged_by)}: {esc((flag.risks or '').rstrip('.'))}. AE and CSM get a "
        f"weekly at-risk reminder until {phase_end:%d %b %Y}."
    )


def at_risk_text(account: Account, flag: HealthFlag) -> str:
    return (
        f":red_circle: Weekly at-risk sync for *{esc(account.name)}* (flagged red "
        f"{flag.flagged_at:%d %b}): {esc((flag.risks or '').rstrip('.'))}. Meet this week, AE "
        "and CSM together, and agree the next step for the renewal."
    )


def renewed_modal(account: Account, default_date: date) -> dict[str, Any]:
    return modal(
        "Renewed",
        [
            section(f"*{esc(account.name)}* renewed: the next cycle starts from here."),
            input_block(
                "new_date",
                "New renewal date",
                {"type": "datepicker", "initial_date": default_date.isoformat()},
            ),
            input_block(
                "new_arr",
                f"New ARR ({account.currency})",
                text_input(f"{account.arr:f}", multiline=False, limit=None),
            ),
            input_block(
                "note",
                "Note",
                text_input(limit=2000),
                optional=True,
            ),
        ],
        callback_id=RENEWED_VIEW,
        submit="Record",
        private_metadata=json.dumps({"account_id": account.id, "cycle": str(account.renewal_date)}),
    )


def churned_modal(account: Account, today: date) -> dict[str, Any]:
    reasons = [
        {"text": plain(name, 75), "value": r.value} for r, name in CHURN_REASON_NAMES.items()
    ]
    return modal(
        "Churned",
        [
            section(f"Record that *{esc(account.name)}* churned. Every nudge still owed stops."),
            input_block("reason", "Root cause", {"type": "radio_buttons", "options": reasons}),
            input_block(
                "effective", "Churn date", {"type": "datepicker", "initial_date": today.isoformat()}
            ),
            input_block(
                "note",
                "What happened",
                text_input(limit=2000),
                optional=True,
            ),
        ],
        callback_id=CHURNED_VIEW,
        submit="Record churn",
        private_metadata=json.dumps({"account_id": account.id}),
    )


def handback_blocks(account: Account, outcome: RenewalOutcome, commercial: str) -> list[Block]:
    giver = who(account.user_of(commercial), getattr(account, f"{commercial}_email", None))
    csm = who(account.csm_user_id, account.csm_email)
    lines = [
        f":handshake: *{esc(account.name)} renewed* (next renewal "
        f"{outcome.new_renewal_date:%d %b %Y}, ARR {esc(account.currency)} "
        f"{outcome.new_arr:,.0f}).",
    ]
    if commercial == "csm":
        lines.append(f"{csm} keeps the account into the next cycle.")
    else:
        lines.append(
            f"Hand-back: {giver} ({ROLE_NAMES[commercial]}) hands the account back to {csm} "
            "(CSM) for the next cycle."
        )
    lines.append(
        "*Kickoff for the new cycle:* hold one overlap call with both of you, then the "
        "customer: what was promised in the renewal, the new success metric, who the "
        "champion is now, and the next milestones."
    )
    if outcome.note:
        lines.append(f"_Note:_ {esc(outcome.note)}")
    return [
        section("\n".join(lines)),
        actions(
            button("Hand-back call held", HANDBACK_HELD, str(account.id), style="primary"),
            block_id="handback",
        ),
    ]


def churn_text(account: Account, outcome: RenewalOutcome, user_id: str) -> str:
    reason = CHURN_REASON_NAMES.get(outcome.reason) or esc(outcome.reason or "")  # type: ignore[arg-type]
    note = f" {esc(outcome.note)}" if outcome.note else ""
    return (
        f":small_red_triangle_down: *{esc(account.name)}* churned on "
        f"{outcome.effective_date:%d %b %Y} "
        f"(root cause: {reason}), recorded by {who(user_id)}.{note} Every pending nudge is "
        "cancelled."
    )


def not_yet_modal(account: Account, milestone: Milestone) -> dict[str, Any]:
    latest = latest_close(account.renewal_date)
    return modal(
        "Renewal not signed yet",
        [
            section(
                f"*{esc(account.name)}*, renewal {account.renewal_date:%d %b %Y}: not signed by "
                "month 10. Managers see why, and when you now expect it to close."
            ),
            input_block(
                "reason",
                "Why not yet",
                text_input(multiline=False, limit=REASON_MAX),
                hint="One line: what the signature is waiting for.",
            ),
            input_block(
                "expected",
                "New expected close date",
                {"type": "datepicker"},
                hint=f"After today, and no later than {latest:%d %b %Y}.",
            ),
        ],
        callback_id=NOT_YET_VIEW,
        submit="Record",
        private_metadata=json.dumps({"milestone_id": milestone.id}),
    )


def signed_text(account: Account, user_id: str) -> str:
    return (
        f":white_check_mark: The renewal of *{esc(account.name)}* is signed (recorded by "
        f"{who(user_id)}). Record it as *Renewed* when the new term starts."
    )


def not_yet_text(account: Account, user_id: str, reason: str, expected: date) -> str:
    return (
        f":hourglass: The renewal of *{esc(account.name)}* is not signed at month 10 "
        f"(recorded by {who(user_id)}): {esc(reason)}. New expected close: "
        f"{expected:%a %d %b %Y}."
    )
