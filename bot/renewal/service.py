"""What people do with a milestone nudge: Done (with an outcome), Snooze, Need help."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.accounts.load import Refusal, load_account
from bot.outbox.owe import about, send_now
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
    if await services.db.run(mark_done, team_id, milestone.id, user_id, outcome, services.clock()):
        await send_now(
            services,
            about(
                services,
                account,
                f"ms-{milestone.id}-done",
                account.channel_id or user_id,
                done_text(account, milestone, user_id, outcome),
                subject=Subject.milestone(milestone.id),
            ),
        )


async def snooze_for(services: Services, team_id: str, value: Any, user_id: str, days: str) -> str:
    milestone, account = await load_milestone(services, team_id, value, user_id)
    tz = await zone(services, account, user_id)
    until = next_business_time(
        services.clock() + timedelta(days=int(days)), tz, holidays=services.settings.holidays
    )
    snoozed = await services.db.run(snooze, team_id, milestone.id, until, immediate=True)
    if snoozed is None:
        raise Refusal(f"*{milestone.title}* is already done.")
    # Plan the next round of nudges now (the earlier round's are moot from here on).
    await services.db.run(set_plan_after, team_id, account.id, services.clock())
    return (
        f"Snoozed *{milestone.title}* for {SNOOZE_DAYS[days]}: I'll nudge again "
        f"{until.astimezone(tz):%a %d %b at %H:%M}."
    )


async def ask_for_help(services: Services, team_id: str, value: Any, user_id: str) -> None:
    milestone, account = await load_milestone(services, team_id, value, user_id)
    if not await services.db.run(request_help, team_id, milestone.id, services.clock()):
        raise Refusal("Help is already asked for in the account channel.")
    await send_now(
        services,
        about(
            services,
            account,
            f"ms-{milestone.id}-help",
            account.channel_id or user_id,
            help_text(account, milestone, user_id, services.managers_of(account)),
            subject=Subject.milestone(milestone.id),
        ),
    )
