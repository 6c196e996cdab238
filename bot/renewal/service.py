"""What people do with a milestone nudge: Done (with an outcome, a one-line answer or a
checklist), Snooze, Need help; and Ask for more, for whom a step's result is handed to."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.accounts.load import Refusal, load_account
from bot.outbox.owe import about, deliver_now, enqueue_all, send_now
from bot.people.escalation import zone
from bot.people.permissions import may_act
from bot.platform.kit import esc, metadata, submitted, who
from bot.platform.services import Services
from bot.renewal.blocks import (
    LINE_MAX,
    SNOOZE_DAYS,
    ask_more_modal,
    ask_more_text,
    checklist_modal,
    done_modal,
    done_text,
    handed_over_blocks,
    help_text,
)
from bot.renewal.planner import playbook
from flows.bounds import record_id, too_long
from flows.calendar import next_business_time
from flows.close import CLOSE_STEP
from flows.permissions import Action
from storage.accounts import set_plan_after
from storage.kinds import Subject
from storage.milestones import get_milestone, mark_done, request_help, snooze
from storage.models import Account, AccountStatus, Milestone, MilestoneStatus
from storage.outbox import OwedMessage

OUTCOME_MAX = 3000  # what the Done modal's input allows
_INDEX = re.compile(r"[0-9]{1,2}")  # a checklist box's value: the item's index


async def load_milestone(
    services: Services,
    team_id: str,
    milestone_id: Any,
    user_id: str,
    *,
    done: bool = False,
    holders: tuple[str, ...] | None = None,
) -> tuple[Milestone, Account]:
    """The milestone and its account, if this person may act on it (`done`: even once it
    is done, e.g. to correct a health flag; `holders`: the roles that may, if not its
    owners)."""
    key = record_id(milestone_id)
    milestone = None
    if key is not None:
        milestone = await services.db.run(get_milestone, team_id, key)
    if milestone is None:
        raise Refusal("That milestone no longer exists.")
    account = await load_account(services, team_id, milestone.account_id)
    owners = holders or tuple(milestone.owners)  # the playbook's owners of this step
    if not await may_act(services, Action.MILESTONE, account, user_id, owners):
        raise Refusal(
            f"*{milestone.title}* for {esc(account.name)} belongs to its owners or a manager."
        )
    if account.status == AccountStatus.CHURNED:
        raise Refusal(f"{esc(account.name)} has churned; its milestones are closed.")
    if milestone.status == MilestoneStatus.DONE and not done:
        raise Refusal(f"*{milestone.title}* is already done ({who(milestone.done_by)}).")
    return milestone, account


async def open_done(
    services: Services, team_id: str, milestone_id: Any, user_id: str, trigger_id: str
) -> None:
    milestone, account = await load_milestone(services, team_id, milestone_id, user_id)
    if milestone.key == CLOSE_STEP:
        raise Refusal(f"Answer *{milestone.title}* with Signed or Not yet.")
    step = playbook().get(milestone.key)
    if step is not None and step.checklist:
        view = checklist_modal(account, milestone, list(step.checklist), step.to or "ae")
    else:
        view = done_modal(account, milestone, line=step is not None and step.answer == "line")
    await services.client.views_open(trigger_id=trigger_id, view=view)


def done_problems(view: dict[str, Any]) -> dict[str, str]:
    if not _outcome(view):
        return {"outcome": "Write the outcome in a line or two, for the record."}
    return too_long({"outcome": _outcome(view)}, OUTCOME_MAX)


def _outcome(view: dict[str, Any]) -> str:
    return (submitted(view, "outcome") or "").strip()


async def submit_done(services: Services, team_id: str, user_id: str, view: dict[str, Any]) -> None:
    milestone_id = metadata(view).get("milestone_id")
    try:
        milestone, account = await load_milestone(services, team_id, milestone_id, user_id)
    except Refusal:
        return  # done meanwhile (a double submission): nothing more to say
    if milestone.key == CLOSE_STEP:
        return  # a forged form: the checkpoint is answered with Signed or Not yet
    await _record_done(services, account, milestone, user_id, _outcome(view))


def checklist_problems(view: dict[str, Any]) -> dict[str, str]:
    if not _ticked(view):
        return {"checklist": "Tick what you hand over; snooze the task if nothing is ready."}
    return too_long({"outcome": _outcome(view)}, LINE_MAX)


def _ticked(view: dict[str, Any]) -> set[int]:
    options = submitted(view, "checklist", "selected_options")
    values = (
        [o.get("value") for o in options if isinstance(o, dict)]
        if isinstance(options, list)
        else []
    )
    return {int(v) for v in values if isinstance(v, str) and _INDEX.fullmatch(v)}


async def submit_checklist(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> None:
    milestone_id = metadata(view).get("milestone_id")
    try:
        milestone, account = await load_milestone(services, team_id, milestone_id, user_id)
    except Refusal:
        return  # done meanwhile (a double submission): nothing more to say
    step = playbook().get(milestone.key)
    items = list(step.checklist) if step is not None else []
    ticked = _ticked(view)
    given = [item for n, item in enumerate(items) if n in ticked]
    if not given:
        return  # only boxes this step does not have: a forged form
    await _record_done(
        services, account, milestone, user_id, checklist_outcome(items, given, _outcome(view))
    )


def checklist_outcome(items: list[str], given: list[str], note: str) -> str:
    """The record of a checklist: what was handed over, what is still to come, the note."""
    missing = [item for item in items if item not in given]
    text = f"Handed over: {', '.join(given)}."
    if missing:
        text += f" Still to come: {', '.join(missing)}."
    return f"{text} {note}" if note else text


async def _record_done(
    services: Services, account: Account, milestone: Milestone, user_id: str, outcome: str
) -> None:
    """Done with its outcome, posted in the account channel (an internal one: the outbox
    holds it should the channel be shared); for a step handed to someone, sent them with an
    Ask for more button."""
    notes = [
        about(
            services,
            account,
            f"ms-{milestone.id}-done",
            account.channel_id or user_id,
            done_text(account, milestone, user_id, outcome),
            subject=Subject.milestone(milestone.id),
        )
    ]
    step = playbook().get(milestone.key)
    receiver = account.user_of(step.to) if step is not None and step.to else None
    if receiver and receiver != user_id:
        notes.append(
            about(
                services,
                account,
                f"ms-{milestone.id}-handed",
                receiver,
                f"{milestone.title} for {esc(account.name)} was handed to you.",
                blocks=handed_over_blocks(account, milestone, user_id, outcome),
                subject=Subject.milestone(milestone.id),
            )
        )
    owed = await services.db.run(
        _done, account.team_id, milestone.id, user_id, outcome, services.clock(), notes
    )
    await deliver_now(services, owed)


def _done(
    session: Session,
    team_id: str,
    milestone_id: int,
    user_id: str,
    outcome: str,
    now: datetime,
    notes: list[OwedMessage],
) -> list[int]:
    """Done, and the messages telling of it, in one unit (none if it was done already)."""
    if not mark_done(session, team_id, milestone_id, user_id, outcome, now):
        return []
    return enqueue_all(session, notes)


async def _handed_to_me(
    services: Services, team_id: str, milestone_id: Any, user_id: str
) -> tuple[Milestone, Account]:
    """A done step handed to a role, for whoever may act for that role."""
    key = record_id(milestone_id)
    milestone = await services.db.run(get_milestone, team_id, key) if key is not None else None
    step = playbook().get(milestone.key) if milestone is not None else None
    if milestone is None or step is None or not step.to:
        raise Refusal("That handover no longer exists.")
    return await load_milestone(
        services, team_id, milestone_id, user_id, done=True, holders=(step.to,)
    )


async def open_ask_more(
    services: Services, team_id: str, milestone_id: Any, user_id: str, trigger_id: str
) -> None:
    milestone, account = await _handed_to_me(services, team_id, milestone_id, user_id)
    await services.client.views_open(trigger_id=trigger_id, view=ask_more_modal(account, milestone))


def ask_more_problems(view: dict[str, Any]) -> dict[str, str]:
    if not _ask(view):
        return {"ask": "Say in one line what else you need."}
    return too_long({"ask": _ask(view)}, LINE_MAX)


def _ask(view: dict[str, Any]) -> str:
    return (submitted(view, "ask") or "").strip()


async def submit_ask_more(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> None:
    """One line, by DM to whoever handed it over; the same line asked twice goes once."""
    try:
        milestone, account = await _handed_to_me(
            services, team_id, metadata(view).get("milestone_id"), user_id
        )
    except Refusal:
        return
    giver = milestone.done_by
    if not giver:
        return  # not handed over yet: the button comes with the handover
    ask = _ask(view)
    digest = hashlib.sha256(ask.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    note = about(
        services,
        account,
        f"ms-{milestone.id}-more-{digest}",
        giver,
        ask_more_text(account, milestone, user_id, ask),
        subject=Subject.milestone(milestone.id),
    )
    await send_now(services, note)


async def snooze_for(services: Services, team_id: str, value: Any, user_id: str, days: str) -> str:
    milestone, account = await load_milestone(services, team_id, value, user_id)
    tz = await zone(services, account, user_id)
    until = next_business_time(
        services.clock() + timedelta(days=int(days)), tz, holidays=services.settings.holidays
    )
    snoozed = await services.db.run(
        _snooze, team_id, account.id, milestone.id, until, services.clock(), immediate=True
    )
    if snoozed is None:
        raise Refusal(f"*{milestone.title}* is already done.")
    return (
        f"Snoozed *{milestone.title}* for {SNOOZE_DAYS[days]}: I'll nudge again "
        f"{until.astimezone(tz):%a %d %b at %H:%M}."
    )


def _snooze(
    session: Session,
    team_id: str,
    account_id: int,
    milestone_id: int,
    until: datetime,
    now: datetime,
) -> Milestone | None:
    """The snooze, and planning the next round now (the earlier round's nudges are moot
    from here on), in one unit."""
    snoozed = snooze(session, team_id, milestone_id, until)
    if snoozed is not None:
        set_plan_after(session, team_id, account_id, now)
    return snoozed


async def ask_for_help(services: Services, team_id: str, value: Any, user_id: str) -> None:
    milestone, account = await load_milestone(services, team_id, value, user_id)
    ask = about(
        services,
        account,
        f"ms-{milestone.id}-help",
        account.channel_id or user_id,
        help_text(account, milestone, user_id, services.managers_of(account)),
        subject=Subject.milestone(milestone.id),
    )
    owed = await services.db.run(_help, team_id, milestone.id, services.clock(), ask)
    if owed is None:
        raise Refusal("Help is already asked for in the account channel.")
    await deliver_now(services, owed)


def _help(
    session: Session, team_id: str, milestone_id: int, now: datetime, ask: OwedMessage
) -> list[int] | None:
    """The request for help and the channel's message asking for it, in one unit; None if
    help was asked for already."""
    if not request_help(session, team_id, milestone_id, now):
        return None
    return enqueue_all(session, [ask])
