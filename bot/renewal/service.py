"""What people do with a milestone nudge: Done (with an outcome), Snooze, Need help."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

from bot.accounts.load import Refusal, load_account
from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.people.escalation import zone
from bot.people.permissions import may_act
from bot.platform.kit import esc, metadata, submitted, who
from bot.platform.services import Services
from bot.renewal.blocks import SNOOZE_DAYS, done_modal, done_text, help_text
from flows.bounds import record_id, too_long
from flows.calendar import next_business_time
from flows.permissions import Action
from storage.accounts import set_plan_after
from storage.kinds import Subject
from storage.milestones import get_milestone, mark_done, request_help, snooze
from storage.models import Account, AccountStatus, Milestone, MilestoneStatus
from storage.outbox import OwedMessage

OUTCOME_MAX = 3000  # what the Done modal's input allows


async def load_milestone(
    services: Services, team_id: str, milestone_id: Any, user_id: str, *, done: bool = False
) -> tuple[Milestone, Account]:
    """The milestone and its account, if this person may act on it (`done`: even once it
    is done, e.g. to correct a health flag)."""
    key = record_id(milestone_id)
    milestone = None
    if key is not None:
        milestone = await services.db.run(get_milestone, team_id, key)
    if milestone is None:
        raise Refusal("That milestone no longer exists.")
    account = await load_account(services, team_id, milestone.account_id)
    owners = tuple(milestone.owners)  # the playbook's owners of this step
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
    await services.client.views_open(trigger_id=trigger_id, view=done_modal(account, milestone))


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
    outcome = _outcome(view)
    note = about(
        services,
        account,
        f"ms-{milestone.id}-done",
        account.channel_id or user_id,
        done_text(account, milestone, user_id, outcome),
        subject=Subject.milestone(milestone.id),
    )
    owed = await services.db.run(
        _done, team_id, milestone.id, user_id, outcome, services.clock(), note
    )
    await deliver_now(services, owed)


def _done(
    session: Session,
    team_id: str,
    milestone_id: int,
    user_id: str,
    outcome: str,
    now: datetime,
    note: OwedMessage,
) -> list[int]:
    """Done, and the channel's note of it, in one unit (none if it was done already)."""
    if not mark_done(session, team_id, milestone_id, user_id, outcome, now):
        return []
    return enqueue_all(session, [note])


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
