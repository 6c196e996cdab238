"""The packet gate: who may fill what, drafts, submissions, and what completion sets off."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.accounts.changes import account_changed
from bot.accounts.facts import note_ownership_in
from bot.accounts.load import Refusal, load_account
from bot.handoff.blocks import (
    customer_kickoff_text,
    icp_headsup_text,
    kickoff_blocks,
    packet_modal,
    read_values,
    summary_blocks,
)
from bot.outbox.owe import about, deliver_now, enqueue_all, send_now
from bot.people.permissions import may_act
from bot.platform.kit import esc, metadata, who
from bot.platform.services import Services
from flows.packet import BY_KEY, Part, fields_of, is_complete, problems
from flows.permissions import Action
from flows.retention import RetentionModel, suggested_model
from storage.accounts import get_account, locked_account, set_once
from storage.kinds import MessageKind
from storage.models import Account
from storage.outbox import OwedMessage, cancel, sent_message
from storage.packets import SavedPart, get_draft, get_packet, save_draft, save_part

GATE_KINDS = [MessageKind.GATE_REMINDER, MessageKind.GATE_ESCALATION]
KICKOFF_KINDS = [MessageKind.KICKOFF_REMINDER]
SUMMARY_KEY = "packet-summary"
KICKOFF_KEY = "kickoff-prompt"


@dataclass(frozen=True)
class Submission:
    account: Account
    part: Part
    answers: dict[str, Any]
    user_id: str


async def may_fill(services: Services, account: Account, user_id: str, part: Part) -> bool:
    """The marketing part: anyone (the packet records who); the AE part: the AE, whoever
    covers for them, or a manager."""
    if part == Part.MARKETING:
        return await may_act(services, Action.ADD_MARKETING, account, user_id)
    return await may_act(services, Action.FILL_PACKET, account, user_id, ("ae",))


def _refuse_fill(account: Account) -> Refusal:
    return Refusal(
        f"Only the AE on {esc(account.name)} ({who(account.ae_user_id, account.ae_email)}), "
        f"whoever covers for them, or a manager can fill or edit the AE part of the handoff "
        f"packet. If that should be you, ask a manager to update the account's AE."
    )


async def open_packet(
    services: Services, team_id: str, account_id: Any, user_id: str, part: Part, trigger_id: str
) -> None:
    account = await load_account(services, team_id, account_id)
    if not await may_fill(services, account, user_id, part):
        raise _refuse_fill(account)
    packet = await services.db.run(get_packet, team_id, account.id)
    draft = await services.db.run(get_draft, team_id, account.id, user_id, part.value)
    values = {**(packet.answers if packet else {}), **(draft or {})}
    model = (
        RetentionModel(account.retention_model)
        if packet
        else suggested_model(account.arr, services.settings.baton_arr_threshold)
    )
    view = packet_modal(account, values, part, model, restored_draft=bool(draft))
    try:
        await services.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        if exc.response.get("error") in ("expired_trigger_id", "exchanged_trigger_id"):
            raise Refusal(
                "Slack took too long to open the form. Please click the button again."
            ) from None
        raise


def part_of(view: dict[str, Any]) -> Part:
    return Part.MARKETING if view.get("callback_id") == "baton_marketing" else Part.AE


def _account_id(view: dict[str, Any]) -> Any:
    return metadata(view).get("account_id")


async def check_submission(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> Submission | dict[str, str]:
    """The submission, or Slack inline errors (block id → message) to show in the modal."""
    part = part_of(view)
    first_block = fields_of(part)[0].key
    try:
        account = await load_account(services, team_id, _account_id(view))
    except Refusal as refusal:
        return {first_block: refusal.plain()}
    if not await may_fill(services, account, user_id, part):
        return {first_block: _refuse_fill(account).plain()}
    answers = read_values(view.get("state", {}).get("values", {}), part)
    errors = problems(answers, part)
    if errors:
        return {key: message for key, message in errors.items() if key in BY_KEY}
    return Submission(account, part, answers, user_id)


async def keep_draft(services: Services, team_id: str, user_id: str, view: dict[str, Any]) -> None:
    part = part_of(view)
    values = read_values(view.get("state", {}).get("values", {}), part)
    if not any(v for k, v in values.items() if k != "retention_model"):
        return
    try:
        account = await load_account(services, team_id, _account_id(view))
    except Refusal:
        return  # nothing to keep it for
    await services.db.run(
        save_draft,
        team_id,
        account.id,
        user_id,
        part.value,
        values,
        services.clock(),
    )


@dataclass(frozen=True)
class Saved:
    part: SavedPart
    owed: list[int]  # what the part's announcement owes, to deliver after the ack


async def save(services: Services, submission: Submission) -> Saved:
    """Save the part and owe what it sets off (the gate's reminders cancelled on
    completion), in one unit. Called before the modal is acknowledged, so nothing typed
    is lost, and nothing owed either."""
    return await services.db.run(_save, services, submission, services.clock(), immediate=True)


def _save(session: Session, services: Services, submission: Submission, now: datetime) -> Saved:
    account = submission.account
    marketing_required = services.settings.baton_marketing_required
    locked = locked_account(session, account.team_id, account.id)
    model_before, complete_before = locked.retention_model, locked.packet_completed_at is not None
    saved = save_part(
        session,
        account.team_id,
        account.id,
        submission.part.value,
        submission.answers,
        submission.user_id,
        now,
        lambda answers: is_complete(answers, marketing_required),
    )
    if submission.answers.get("retention_model"):
        note_ownership_in(
            session,
            services,
            account.team_id,
            account.id,
            "retention model chosen",
            submission.user_id,
            now=now,
        )
    fresh = get_account(session, account.team_id, account.id)
    assert fresh is not None  # its row is locked by save_part
    messages: list[OwedMessage] = []
    if saved.completed_now:
        cancel(session, account.team_id, account.id, GATE_KINDS)
        messages = _completion(services, fresh, saved.answers)
    elif saved.changed:
        messages = _progress(
            services, account, submission, saved.version, saved.changed, saved.answers
        )
    owed = enqueue_all(session, messages)
    if complete_before and fresh.retention_model != model_before:  # a switch, not a choice
        change = {"retention_model": (model_before, fresh.retention_model)}
        owed += account_changed(session, services, fresh, change, now)
    return Saved(saved, owed)


async def announce(services: Services, submission: Submission, saved: Saved) -> None:
    await deliver_now(services, saved.owed)


def _progress(
    services: Services,
    account: Account,
    submission: Submission,
    version: int,
    changed: dict[str, list[Any]],
    answers: dict[str, Any],
) -> list[OwedMessage]:
    if not account.channel_id:
        return []
    names = ", ".join(BY_KEY[key].label for key in changed if key in BY_KEY)
    if account.packet_completed_at is not None:
        text = f"{who(submission.user_id)} edited the handoff packet (version {version}): {names}."
    elif submission.part == Part.AE:
        text = (
            f"{who(submission.user_id)} filled the AE part of the handoff packet. Waiting "
            f"for the marketing context: anyone can add it with *Add marketing context*."
        )
    else:
        text = (
            f"{who(submission.user_id)} added the marketing context. Waiting for the AE "
            f"part from {who(account.ae_user_id, account.ae_email)}."
        )
    return [about(services, account, f"packet-v{version}", account.channel_id, text)]


def _took(account: Account) -> str:
    if account.packet_completed_at is None:
        return "just now"
    elapsed = account.packet_completed_at - account.closed_at
    days, hours = elapsed.days, elapsed.seconds // 3600
    if days:
        return f"{days} day{'s' * (days != 1)} {hours} h"
    return f"{hours} h {elapsed.seconds % 3600 // 60} min"


def _completion(services: Services, account: Account, answers: dict[str, Any]) -> list[OwedMessage]:
    channel = account.channel_id or ""
    messages = [
        about(
            services,
            account,
            SUMMARY_KEY,
            channel,
            f"The handoff packet for {esc(account.name)} is complete.",
            blocks=summary_blocks(account, answers, _took(account)),
        )
    ]
    if answers.get("icp_exception") and account.csm_user_id:  # the channel's is in the summary
        text = icp_headsup_text(account, answers.get("icp_reason") or "")
        messages.append(about(services, account, "icp-headsup-dm", account.csm_user_id, text))
    messages.append(
        about(
            services,
            account,
            KICKOFF_KEY,
            channel,
            f"Next: the joint kickoff for {esc(account.name)}.",
            blocks=kickoff_blocks(account),
        )
    )
    if account.ext_channel_id:  # the customer hears the logistics, never the packet
        text = customer_kickoff_text(account)
        messages.append(
            about(
                services,
                account,
                "customer-kickoff",
                account.ext_channel_id,
                text,
                kind=MessageKind.CUSTOMER,
            )
        )
    return messages


async def acknowledge(services: Services, team_id: str, account_id: Any, user_id: str) -> None:
    account = await load_account(services, team_id, account_id)
    if not await may_act(services, Action.ACKNOWLEDGE_PACKET, account, user_id, ("csm",)):
        raise Refusal(
            f"Only the CSM on {esc(account.name)} "
            f"({who(account.csm_user_id, account.csm_email)}) can acknowledge the packet."
        )
    channel, ts = await _summary_post(services, account)
    text = (
        f"{who(user_id)} acknowledged the handoff packet. Thank you, "
        f"{who(account.ae_user_id, account.ae_email)}!"
    )
    reply = about(services, account, "summary-ack", channel, text, thread_ts=ts)
    owed = await services.db.run(
        _acknowledged, team_id, account.id, services.clock(), reply, immediate=True
    )
    if owed is None:
        raise Refusal("You already acknowledged this packet.")
    await deliver_now(services, owed)


def _acknowledged(
    session: Session, team_id: str, account_id: int, now: datetime, reply: OwedMessage
) -> list[int] | None:
    if not set_once(session, team_id, account_id, "csm_acknowledged_at", now):
        return None
    return enqueue_all(session, [reply])


async def ask_questions(services: Services, team_id: str, account_id: Any, user_id: str) -> None:
    account = await load_account(services, team_id, account_id)
    if not await may_act(services, Action.ACKNOWLEDGE_PACKET, account, user_id, ("csm",)):
        raise Refusal(
            f"Questions on the packet come from the CSM on {esc(account.name)} "
            f"({who(account.csm_user_id, account.csm_email)}); reply in the thread "
            f"under the packet to add yours."
        )
    report = await _reply_in_summary_thread(
        services,
        account,
        "questions",
        f"{who(user_id)} has questions about the handoff packet. "
        f"{who(account.ae_user_id, account.ae_email)}, please answer here in this thread.",
    )
    if not report:
        raise Refusal("The questions thread is already open under the packet: ask there.")


async def _summary_post(services: Services, account: Account) -> tuple[str, str]:
    parent = await services.db.run(sent_message, account.team_id, f"{SUMMARY_KEY}:{account.id}")
    if parent is None:
        raise Refusal("The packet summary is still being posted; try again in a moment.")
    return parent


async def _reply_in_summary_thread(
    services: Services, account: Account, key: str, text: str
) -> bool:
    channel, ts = await _summary_post(services, account)
    report = await send_now(
        services, about(services, account, f"summary-{key}", channel, text, thread_ts=ts)
    )
    return bool(report.sent or report.deferred or report.unknown)


async def kickoff_held(services: Services, team_id: str, account_id: Any, user_id: str) -> None:
    await deliver_now(services, await record_kickoff(services, team_id, account_id, user_id))


async def record_kickoff(
    services: Services, team_id: str, account_id: Any, user_id: str
) -> list[int]:
    """Log the kickoff, cancel its reminders and owe the channel's note, in one unit: the
    ids owed, to deliver once the click is acknowledged."""
    account = await load_account(services, team_id, account_id)
    if not await may_act(services, Action.LOG_KICKOFF, account, user_id, ("ae", "csm")):
        raise Refusal(
            f"Only the AE, the CSM (or whoever covers for them) or a manager can log the "
            f"kickoff for {esc(account.name)}."
        )
    note = about(
        services,
        account,
        "kickoff-held",
        account.channel_id or "",
        f"Kickoff held for *{esc(account.name)}* (logged by {who(user_id)}). "
        "The CSM leads from here; "
        f"the AE stays in the loop for the first four weekly check-ins.",
    )
    owed = await services.db.run(
        _kickoff, team_id, account.id, user_id, services.clock(), note, immediate=True
    )
    if owed is None:
        raise Refusal("The kickoff is already logged.")
    return owed


def _kickoff(
    session: Session, team_id: str, account_id: int, user_id: str, now: datetime, note: OwedMessage
) -> list[int] | None:
    if not set_once(
        session,
        team_id,
        account_id,
        "kickoff_held_at",
        now,
        kickoff_held_by=user_id,
        plan_after=now,  # the weekly check-ins now count from the kickoff
    ):
        return None
    # The kickoff also re-anchors the weekly check-in prompts (planned from the close so far).
    cancel(session, team_id, account_id, [*KICKOFF_KINDS, MessageKind.CHECKIN_PROMPT])
    return enqueue_all(session, [note])
