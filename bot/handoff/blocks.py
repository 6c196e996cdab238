"""Block Kit for the handoff window: welcome, packet modal, summary, kickoff, reminders."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.platform.kit import (
    Block,
    actions,
    button,
    channel_mention,
    chosen,
    clip,
    context,
    divider,
    element_state,
    esc,
    header,
    input_block,
    modal,
    money,
    plain,
    prompt,
    section,
    ticked,
    who,
)
from flows.handoff import KICKOFF_AGENDA, TIMELINE, HandoffStage, current_stage
from flows.ownership import ROLE_NAMES
from flows.packet import MODEL_CHOICES, Kind, PacketField, Part, fields_of
from flows.retention import RetentionModel
from storage.models import Account

OPEN_PACKET = "baton_packet_open"
OPEN_MARKETING = "baton_marketing_open"
ACKNOWLEDGE = "baton_packet_ack"
QUESTIONS = "baton_packet_questions"
KICKOFF_HELD = "baton_kickoff_held"
PACKET_VIEW = "baton_packet"
MARKETING_VIEW = "baton_marketing"
NEW_ACCOUNT_VIEW = "baton_new_account"


def topic(account: Account) -> str:
    return (
        f"ARR {money(account)} · renews {account.renewal_date.isoformat()} · "
        f"model {esc(account.retention_model)}"
    )


# --- the account channel ------------------------------------------------------------------
def welcome_blocks(account: Account, today: date) -> list[Block]:
    stage = current_stage(account.closed_at.date(), today)
    lines = []
    for item in TIMELINE:
        marker = "  ← *now*" if item == stage else ""
        lines.append(f"• *{item.title}* · {item.owner}: {item.what}{marker}")
    owners = _owners_now(account, stage)
    if account.am_email:
        owners += f" AM: {who(account.am_user_id, account.am_email)}."
    if account.ops_email:
        owners += f" Ops: {who(account.ops_user_id, account.ops_email)}."
    return [
        header(f"Welcome, {account.name}"),
        section(
            f"Closed-won · ARR *{money(account)}* · renews *{account.renewal_date:%d %b %Y}* "
            f"· term {account.term_months} months"
        ),
        section(owners),
        divider(),
        section("*The handoff window*\n" + "\n".join(lines)),
    ]


def _owners_now(account: Account, stage: HandoffStage) -> str:
    """Who owns the account now: the AE until the packet is complete and the kickoff held
    (an account imported after its handoff has both behind it), then the CSM."""
    ae, csm = who(account.ae_user_id, account.ae_email), who(account.csm_user_id, account.csm_email)
    name = esc(account.name)
    if account.packet_completed_at is None:
        return (
            f"*Right now* the AE {ae} owns {name} until the handoff packet is complete and the "
            f"kickoff is held. CSM: {csm}."
        )
    if account.kickoff_held_at is None:
        return (
            f"*Right now* the AE {ae} owns {name} until the kickoff is held: the handoff packet "
            f"is complete. CSM: {csm}."
        )
    if stage is not TIMELINE[-1]:
        return f"*Right now* the CSM {csm} owns {name}, with the AE {ae} in the loop until day 30."
    return f"*Right now* the CSM {csm} is the primary owner of {name}. AE: {ae}."


def packet_request_blocks(account: Account, marketing_required: bool) -> list[Block]:
    marketing = (
        "Marketing's part (source and content engagement) is filled by marketing ops: "
        "anyone can add it with *Add marketing context*."
    )
    if not marketing_required:
        marketing += " It is optional for this team."
    return [
        section(
            f"{who(account.ae_user_id, account.ae_email)}, the *handoff packet* for "
            f"*{esc(account.name)}* is due. Until it is complete the deal is not handed off, "
            f"and I will remind you every business morning."
        ),
        context(marketing),
        actions(
            button("Fill the handoff packet", OPEN_PACKET, str(account.id), style="primary"),
            button("Add marketing context", OPEN_MARKETING, str(account.id)),
            block_id=f"packet_request_{account.id}",
        ),
    ]


def packet_dm_blocks(account: Account) -> list[Block]:
    return prompt(
        f"Congratulations on closing *{esc(account.name)}*! I opened "
        f"{channel_mention(account.channel_id or '')} "
        f"for the handoff. Please fill the handoff packet now: the CSM starts from it.",
        "Fill the handoff packet",
        OPEN_PACKET,
        account.id,
        "packet_dm",
    )


def marketing_request_blocks(account: Account) -> list[Block]:
    return prompt(
        f"*{esc(account.name)}* just closed. The handoff packet needs marketing's part: the "
        f"campaigns, webinars and content this buyer engaged with. The AE can't fill it alone.",
        "Add marketing context",
        OPEN_MARKETING,
        account.id,
        "marketing_request",
    )


def reminder_blocks(account: Account, business_day: int) -> list[Block]:
    return prompt(
        f"Reminder ({_ordinal(business_day)} business day): the handoff packet for "
        f"*{esc(account.name)}* is still missing, so the deal is not handed off yet.",
        "Fill the handoff packet",
        OPEN_PACKET,
        account.id,
        "packet_reminder",
    )


def escalation_text(account: Account) -> str:
    return (
        f"The handoff packet for *{esc(account.name)}* is still not complete two business days "
        f"after close. The AE is {who(account.ae_user_id, account.ae_email)}; "
        f"the CSM {who(account.csm_user_id, account.csm_email)} is waiting on it."
    )


def _role_label(role: str) -> str:
    return ROLE_NAMES.get(role, role.upper())


def gap_text(account: Account, role: str, email: str) -> str:
    return (
        f"I could not find {esc(email)} ({_role_label(role)} on *{esc(account.name)}*) in "
        f"this Slack workspace, so they are not in the channel yet. I'll add them as soon as the "
        f"address matches a Slack account; or fix the email in the CRM."
    )


def found_text(account: Account, role: str, user_id: str) -> str:
    return (
        f"{who(user_id)} is now in the channel as the {_role_label(role)} on *{esc(account.name)}*."
    )


def change_text(account: Account, changes: dict[str, tuple[Any, Any]]) -> str:
    labels = {
        "renewal_date": "Renewal date",
        "arr": "ARR",
        "ae_email": "AE",
        "csm_email": "CSM",
        "am_email": "AM",
        "ops_email": "Ops",
        "manager_email": "Manager",
    }
    lines = [
        f"• {labels.get(k, esc(k))}: {esc(old or '—')} → {esc(new or '—')}"
        for k, (old, new) in changes.items()
    ]
    return f"The CRM updated *{esc(account.name)}*:\n" + "\n".join(lines)


# --- the packet modal -----------------------------------------------------------------------
def _input(item: PacketField, value: Any, suggested_model: RetentionModel) -> Block:
    element: dict[str, Any]
    if item.kind == Kind.FLAG:
        option = {
            "text": plain("ICP exception: plan extra expectation-setting", 75),
            "value": "yes",
        }
        element = {"type": "checkboxes", "options": [option]}
        if value:
            element["initial_options"] = [option]
    elif item.kind == Kind.CHOICE:
        options = [{"text": plain(label, 75), "value": key} for key, label in MODEL_CHOICES]
        chosen = value or suggested_model.value
        element = {
            "type": "static_select",
            "options": options,
            "initial_option": next(o for o in options if o["value"] == chosen),
        }
    else:
        element = {
            "type": "plain_text_input",
            "multiline": item.kind == Kind.LONG,
            "max_length": item.max_length,
        }
        if value:
            element["initial_value"] = clip(str(value), item.max_length)
        if item.placeholder:
            element["placeholder"] = plain(item.placeholder, 150)
    optional = not item.required or item.kind == Kind.FLAG
    return input_block(item.key, item.label, element, optional=optional, hint=item.hint)


def packet_modal(
    account: Account,
    values: dict[str, Any],
    part: Part,
    suggested_model: RetentionModel,
    restored_draft: bool,
) -> dict[str, Any]:
    intro = (
        f"*{esc(account.name)}* · CSM {who(account.csm_user_id, account.csm_email)}. "
        "Write for the CSM: the customer's words, not ours."
    )
    if part == Part.MARKETING:
        intro = (
            f"*{esc(account.name)}*: what brought this buyer in. Filled by marketing ops; "
            "it is recorded under your name."
        )
    blocks: list[Block] = [section(intro)]
    if restored_draft:
        blocks.append(context("Restored what you typed last time (not submitted yet)."))
    blocks += [_input(item, values.get(item.key), suggested_model) for item in fields_of(part)]
    return modal(
        "Handoff packet" if part == Part.AE else "Marketing context",
        blocks,
        callback_id=PACKET_VIEW if part == Part.AE else MARKETING_VIEW,
        submit="Submit",
        close="Save draft",
        private_metadata=json.dumps({"account_id": account.id}),
    ) | {"notify_on_close": True}


def read_values(state: dict[str, Any], part: Part) -> dict[str, Any]:
    """The modal's state as packet answers (the inverse of _input)."""
    answers: dict[str, Any] = {}
    for item in fields_of(part):
        raw = element_state(state, item.key)
        if item.kind == Kind.FLAG:
            answers[item.key] = ticked(raw)
        elif item.kind == Kind.CHOICE:
            answers[item.key] = chosen(raw)
        else:
            value = raw.get("value")
            answers[item.key] = value.strip() if isinstance(value, str) else None
    return answers


# --- completion ----------------------------------------------------------------------------
def summary_blocks(account: Account, answers: dict[str, Any], took: str) -> list[Block]:
    blocks: list[Block] = [header(f"Handoff packet: {account.name}")]
    if answers.get("icp_exception"):  # the account channel's one heads-up (the CSM's DM too)
        blocks.append(section(icp_headsup_text(account, answers.get("icp_reason") or "")))
    for part in (Part.AE, Part.MARKETING):
        for item in fields_of(part):
            value = answers.get(item.key)
            if item.kind == Kind.FLAG or item.key == "icp_reason" or not value:
                continue
            if item.kind == Kind.CHOICE:
                value = RetentionModel(value).label
            blocks.append(section(f"*{item.label}*\n{esc(clip(str(value), 2900))}"))
    blocks.append(
        context(
            f"Completed {took} after close. CSM "
            f"{who(account.csm_user_id, account.csm_email)}: acknowledge it, or "
            f"ask the AE in a thread."
        )
    )
    blocks.append(
        actions(
            button("Acknowledge", ACKNOWLEDGE, str(account.id), style="primary"),
            button("I have questions", QUESTIONS, str(account.id)),
            block_id=f"packet_summary_{account.id}",
        )
    )
    return blocks


def icp_headsup_text(account: Account, reason: str) -> str:
    return (
        f":warning: *CSM heads-up on {esc(account.name)}: this deal closed outside our ideal "
        f"customer profile.* {esc(reason)} Plan extra expectation-setting in the first 30 days."
    )


def kickoff_blocks(account: Account) -> list[Block]:
    agenda = "\n".join(f"• *{length}*: {item}" for length, item in KICKOFF_AGENDA)
    return prompt(
        f"*Next: the 30-minute joint kickoff* for {esc(account.name)}, with "
        f"{who(account.ae_user_id, account.ae_email)} and "
        f"{who(account.csm_user_id, account.csm_email)} (and the champion for complex "
        f"deals). Hold it within 7 days of close.\n{agenda}",
        "Kickoff held",
        KICKOFF_HELD,
        account.id,
        "kickoff",
    )


# --- the customer-facing channel (shared with the customer: nothing internal) -------------
def customer_welcome_text(account: Account) -> str:
    return (
        f":wave: Welcome, {esc(account.name)}! This channel is shared between your team and "
        f"ours. Your contacts here: {who(account.ae_user_id, account.ae_email)} (account "
        f"executive) and {who(account.csm_user_id, account.csm_email)} (customer success). "
        "We'll use it to schedule the kickoff and for anything you need along the way."
    )


def customer_kickoff_text(account: Account) -> str:
    return (
        f"Next step for {esc(account.name)}: a 30-minute kickoff with "
        f"{who(account.ae_user_id, account.ae_email)} and "
        f"{who(account.csm_user_id, account.csm_email)} in the coming days, to confirm your "
        "goals, the success measure and the first steps. We'll propose times here."
    )


def kickoff_reminder_text(account: Account) -> str:
    return (
        f"It's day 7 since *{esc(account.name)}* closed and no kickoff has been logged. "
        f"Hold the 30-minute joint kickoff, then click *Kickoff held* in "
        f"{channel_mention(account.channel_id or '')}."
    )


# --- /baton new ----------------------------------------------------------------------------
def new_account_modal(threshold_hint: str) -> dict[str, Any]:
    def text(
        block_id: str,
        label: str,
        *,
        optional: bool = False,
        hint: str = "",
        kind: str = "plain_text_input",
        **extra: Any,
    ) -> Block:
        return input_block(block_id, label, {"type": kind, **extra}, optional=optional, hint=hint)

    return modal(
        "New account",
        [
            section("For teams without a CRM hook: the same as a closed-won webhook."),
            text("account_name", "Account name", max_length=200),
            text(
                "crm_id",
                "CRM id",
                hint="The deal or account id in your CRM; it keeps re-sends idempotent.",
                max_length=64,
            ),
            text("arr", "ARR", kind="number_input", is_decimal_allowed=True, hint=threshold_hint),
            text("contract_start", "Contract start", kind="datepicker", optional=True),
            text(
                "renewal_date",
                "Renewal date",
                kind="datepicker",
                optional=True,
                hint="Defaults to contract start plus the term.",
            ),
            text("ae", "AE", kind="users_select"),
            text("csm", "CSM", kind="users_select"),
            text("am", "AM", kind="users_select", optional=True),
            text(
                "ops",
                "Ops",
                kind="users_select",
                optional=True,
                hint="Owns the day-7 account confirmation; left empty, the workspace's Ops default.",
            ),
            text("manager", "Manager", kind="users_select", optional=True),
            text(
                "champion_email",
                "Customer champion's email",
                kind="email_text_input",
                optional=True,
            ),
            text("crm_url", "CRM link", kind="url_text_input", optional=True),
        ],
        callback_id=NEW_ACCOUNT_VIEW,
        submit="Create",
    )


def _ordinal(number: int) -> str:
    suffix = (
        "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"
