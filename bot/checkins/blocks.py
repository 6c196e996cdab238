"""Block Kit for check-ins, the AE in the loop, the day-30 switch and the packet rating."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from bot.accounts.contacts import contacts_block, contacts_lines, greeting
from bot.platform.kit import (
    Block,
    actions,
    button,
    chosen,
    clip,
    context,
    element_state,
    esc,
    input_block,
    link,
    modal,
    plain,
    prompt,
    section,
    text_input,
    ticked,
    who,
)
from flows.checkins import AE_COPIED_CHECKINS, Sentiment
from flows.contacts import Contacts, Topic
from flows.ownership import ROLE_NAMES
from flows.packet import FIELDS, Kind
from storage.models import Account, Checkin

CHECKIN_OPEN = "baton_checkin_open"
CHECKIN_EDIT = "baton_checkin_edit"
CLARIFY_OPEN = "baton_clarify_open"
RATE_OPEN = "baton_rate_open"
CHECKIN_VIEW = "baton_checkin"
CLARIFY_VIEW = "baton_clarify"
RATING_VIEW = "baton_rating"
YES = "yes"


def checkin_prompt_blocks(account: Account, week: int) -> list[Block]:
    return prompt(
        f"Week {week} check-in for *{esc(account.name)}*: how is the customer doing? Log it in a "
        f"minute; the AE is copied on the first {AE_COPIED_CHECKINS}.",
        "Log check-in",
        CHECKIN_OPEN,
        account.id,
        f"checkin_prompt_w{week}",
    )


def _flag(text: str, value: bool) -> dict[str, Any]:
    option = {"text": plain(text, 75), "value": YES}
    element: dict[str, Any] = {"type": "checkboxes", "options": [option]}
    if value:
        element["initial_options"] = [option]
    return element


def checkin_modal(
    account: Account,
    success_metric: str | None,
    values: dict[str, Any],
    today: date,
    checkin_id: int | None = None,
) -> dict[str, Any]:
    options = [{"text": plain(f"{s.label}", 75), "value": s.value} for s in Sentiment]
    sentiment: dict[str, Any] = {"type": "radio_buttons", "options": options}
    chosen = next((o for o in options if o["value"] == values.get("sentiment")), None)
    if chosen:
        sentiment["initial_option"] = chosen
    metric = (
        f"*Success metric the buyer named:* {esc(success_metric)}"
        if success_metric
        else "_No success metric yet: the handoff packet is not complete._"
    )
    blocks = [
        section(f"*{esc(account.name)}*" + (" · editing this check-in" if checkin_id else "")),
        context(metric),
        input_block(
            "checkin_date",
            "Date",
            {"type": "datepicker", "initial_date": str(values.get("checkin_date") or today)},
        ),
        input_block("summary", "How did it go?", text_input(values.get("summary"))),
        input_block("sentiment", "Customer sentiment", sentiment),
        input_block(
            "mismatch",
            "Expectation mismatch?",
            _flag("They expect something they say they were promised", values.get("mismatch")),
            optional=True,
            hint="The AE will be asked to clarify, even after check-in 4.",
        ),
        input_block(
            "promised",
            "What do they believe they were promised?",
            text_input(values.get("promised")),
            optional=True,
        ),
        input_block(
            "next_steps", "Next steps", text_input(values.get("next_steps")), optional=True
        ),
        input_block(
            "first_value",
            "First value",
            _flag("First value reached against the success metric", values.get("first_value")),
            optional=True,
        ),
    ]
    metadata = {"account_id": account.id, "checkin_id": checkin_id}
    return modal(
        "Check-in",
        blocks,
        callback_id=CHECKIN_VIEW,
        submit="Save" if checkin_id else "Log check-in",
        private_metadata=json.dumps(metadata),
    )


def read_checkin(state: dict[str, Any]) -> dict[str, Any]:
    def raw(block_id: str) -> dict[str, Any]:
        return element_state(state, block_id)

    def text(block_id: str) -> str | None:
        value = raw(block_id).get("value")
        return value.strip() or None if isinstance(value, str) else None

    day = raw("checkin_date").get("selected_date")
    return {
        "checkin_date": day if isinstance(day, str) else None,
        "summary": text("summary"),
        "sentiment": chosen(raw("sentiment")),
        "mismatch": ticked(raw("mismatch")),
        "promised": text("promised"),
        "next_steps": text("next_steps"),
        "first_value": ticked(raw("first_value")),
    }


def checkin_blocks(account: Account, checkin: Checkin) -> list[Block]:
    sentiment = Sentiment(checkin.sentiment)
    edited = f" · edited by {who(checkin.edited_by)}" if checkin.edited_by else ""
    lines = [
        f"*Check-in #{checkin.number}* for *{esc(account.name)}* · "
        f"{checkin.checkin_date:%a %d %b} · by {who(checkin.logged_by)} · "
        f"{sentiment.emoji} {sentiment.label}{edited}",
        esc(clip(checkin.summary, 2000)),
    ]
    if checkin.next_steps:
        lines.append(f"*Next steps:* {esc(clip(checkin.next_steps, 500))}")
    blocks: list[Block] = [section("\n".join(lines))]
    if checkin.mismatch:
        blocks.append(
            section(
                f":warning: *Expectation mismatch.* The customer believes they were "
                f"promised: {esc(clip(checkin.promised or '', 2000))}"
            )
        )
    if checkin.first_value:
        blocks.append(context(":tada: First value reached against the success metric."))
    blocks.append(
        actions(button("Edit", CHECKIN_EDIT, str(checkin.id)), block_id=f"checkin_{checkin.id}")
    )
    return blocks


def cc_text(account: Account, checkin: Checkin, permalink: str) -> str:
    sentiment = Sentiment(checkin.sentiment)
    return (
        f"FYI, no action needed: check-in #{checkin.number} of {AE_COPIED_CHECKINS} you are "
        f"copied on for *{esc(account.name)}* ({sentiment.label.lower()}). "
        f"“{esc(clip(checkin.summary, 500))}” {link(permalink, 'See it in the channel')}"
    )


def clarify_blocks(account: Account, checkin: Checkin, permalink: str) -> list[Block]:
    return prompt(
        f":warning: On *{esc(account.name)}* the customer believes they were promised: "
        f"“{esc(clip(checkin.promised or '', 1500))}”. Please clarify what was agreed: your "
        f"answer goes in the check-in's thread ({link(permalink, f'check-in #{checkin.number}')}).",
        "Clarify",
        CLARIFY_OPEN,
        checkin.id,
        "clarify",
    )


def clarify_modal(account: Account, checkin: Checkin) -> dict[str, Any]:
    return modal(
        "Clarify",
        [
            section(
                f"*{esc(account.name)}*, check-in #{checkin.number}. The customer believes they "
                f"were promised: “{esc(clip(checkin.promised or '', 2500))}”"
            ),
            input_block("clarification", "What was actually agreed?", text_input(None)),
        ],
        callback_id=CLARIFY_VIEW,
        submit="Post in thread",
        private_metadata=json.dumps({"checkin_id": checkin.id}),
    )


def mismatch_escalation_text(account: Account, checkin: Checkin) -> str:
    return (
        f"An expectation mismatch on *{esc(account.name)}* (check-in #{checkin.number}) has had "
        f"no answer from the AE {who(account.ae_user_id, account.ae_email)} in two business "
        f"days. The customer believes they were promised: "
        f"“{esc(clip(checkin.promised or '', 800))}”"
    )


def customer_intro(contacts: Contacts, champion: str | None) -> tuple[str, list[Block]]:
    """The day-30 note for the customer: whom to reach for what from now on (its text, the
    whole note in mrkdwn, and its blocks). Only people and roles: nothing internal."""
    opening = (
        f"{greeting(champion)}, a quick note now that you're up and running: here is whom to "
        f"reach at our side for what, from here on."
    )
    closing = "Looking forward to the next months together!"
    text = f"{opening}\n{contacts_lines(contacts)}\n{closing}"
    return text, [section(opening), contacts_block(contacts), section(closing)]


def primary_blocks(account: Account, contacts: Contacts, intro: str) -> list[Block]:
    """The account channel's day-30 note: who owns what now, and the customer's note."""
    csm = who(account.csm_user_id, account.csm_email)
    renewal = contacts.who_for(Topic.RENEWAL)
    if renewal.role == contacts.relationship:
        owners = (
            f"{csm} is now the primary owner, renewal included. "
            f"{who(account.ae_user_id, account.ae_email)} steps back and stays available "
            f"for escalations."
        )
    else:
        owners = (
            f"{csm} is now the primary owner; the renewal and the commercial side belong to "
            f"the {ROLE_NAMES[renewal.role]} {renewal.person or 'nobody yet'}."
        )
    if account.ext_channel_id:
        note = f"The customer got this introduction in <#{account.ext_channel_id}>:\n>"
    else:
        note = f"{csm}, a note you could send the customer so they know their contacts:\n>"
    return [
        section(f"*Day 30 for {esc(account.name)}:* {owners}"),
        section(note + intro.replace("\n", "\n>")),
    ]


def rating_request_blocks(account: Account) -> list[Block]:
    return prompt(
        f"Thirty days into *{esc(account.name)}*: how good was the handoff packet? Rate it 1–5 "
        f"and mark what was missing or wrong; it tells the team which fields AEs skip.",
        "Rate the packet",
        RATE_OPEN,
        account.id,
        "rate",
    )


def rating_modal(account: Account) -> dict[str, Any]:
    scores = [
        {"text": plain(f"{n} · {label}", 75), "value": str(n)}
        for n, label in (
            (1, "Useless"),
            (2, "Poor"),
            (3, "Adequate"),
            (4, "Good"),
            (5, "Everything I needed"),
        )
    ]
    fields = [{"text": plain(f.label, 75), "value": f.key} for f in FIELDS if f.kind != Kind.FLAG]
    return modal(
        "Rate the packet",
        [
            section(f"The handoff packet for *{esc(account.name)}*, as it was at handoff."),
            input_block("rating", "Rating", {"type": "radio_buttons", "options": scores}),
            input_block(
                "missing",
                "Missing or wrong",
                {
                    "type": "multi_static_select",
                    "options": fields,
                    "placeholder": plain("Pick fields", 150),
                },
                optional=True,
            ),
            input_block("comment", "Anything else?", text_input(None), optional=True),
        ],
        callback_id=RATING_VIEW,
        submit="Rate",
        private_metadata=json.dumps({"account_id": account.id}),
    )


def rating_alert_text(average: float, count: int, missing: list[tuple[str, int]]) -> str:
    labels = {f.key: f.label for f in FIELDS}
    worst = "; ".join(f"{labels.get(key) or esc(key)} ({n}×)" for key, n in missing)
    worst = worst or "none marked"
    return (
        f"Handoff packet quality is slipping: the last {count} ratings average "
        f"*{average:.1f}* / 5 (below 3.5). Marked missing or wrong most often: {worst}."
    )
