"""The month-5 health flag: the CSM's modal, the post, the business-case task, and what a
red flag sets off (the manager told; weekly at-risk reminders through phase 2)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from bot.accounts.load import Refusal
from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.people.escalation import zone
from bot.platform.kit import esc, metadata, submitted
from bot.platform.services import Services
from bot.renewal.blocks import (
    FLAG_STEP,
    business_case_task,
    flag_blocks,
    flag_modal,
    red_flag_text,
)
from bot.renewal.planner import commercial_role
from bot.renewal.service import load_milestone
from flows.bounds import too_long
from flows.calendar import next_business_hour
from flows.health import Health, flag_problems
from flows.renewal import phase_two_end
from storage.accounts import set_plan_after
from storage.milestones import cycle_milestones, mark_done
from storage.models import Account
from storage.renewals import cycle_flag, save_flag

TEXT_MAX = 2000  # what the flag modal's inputs allow


async def open_flag(
    services: Services, team_id: str, milestone_id: Any, user_id: str, trigger_id: str
) -> None:
    milestone, account = await load_milestone(services, team_id, milestone_id, user_id, done=True)
    if milestone.key != FLAG_STEP:
        raise Refusal("Only the month-5 milestone takes a health flag.")
    flag = await services.db.run(cycle_flag, team_id, account.id, account.renewal_date)
    await services.client.views_open(
        trigger_id=trigger_id, view=flag_modal(account, milestone.id, flag)
    )


def problems(view: dict[str, Any]) -> dict[str, str]:
    chosen = submitted(view, "health", "selected_option") or {}
    texts = {key: submitted(view, key) for key in ("risks", "expansion")}
    return flag_problems(chosen.get("value"), texts["risks"] or "") or too_long(texts, TEXT_MAX)


async def submit_flag(services: Services, team_id: str, user_id: str, view: dict[str, Any]) -> None:
    milestone_id = metadata(view).get("milestone_id")
    try:
        milestone, account = await load_milestone(
            services, team_id, milestone_id, user_id, done=True
        )
    except Refusal as refusal:
        await services.client.chat_postMessage(channel=user_id, text=str(refusal))
        return
    health = Health(submitted(view, "health", "selected_option")["value"])
    answer = _Answer(
        health,
        (submitted(view, "risks") or "").strip() or None,
        (submitted(view, "expansion") or "").strip() or None,
        # One post per submission (a re-flag is posted too: the channel sees the change).
        f"flag-{view.get('id') or services.clock().timestamp()}",
    )
    # Whoever hears of it hears at a sane hour of their own (zones may need Slack: first).
    owner = account.user_of(commercial_role(services, account))
    told = {owner} - {user_id}
    if health == Health.RED:
        told |= set(services.managers_of(account))
    hours = {person: await _their_hour(services, account, person) for person in told - {None}}
    owed = await services.db.run(
        _flag, services, account, milestone.id, user_id, answer, owner, hours, immediate=True
    )
    await deliver_now(services, owed)


@dataclass(frozen=True)
class _Answer:
    health: Health
    risks: str | None
    expansion: str | None
    key: str


def _flag(
    session: Session,
    services: Services,
    account: Account,
    milestone_id: int,
    user_id: str,
    answer: _Answer,
    owner: str | None,
    hours: dict[str, dict[str, Any]],
) -> list[int]:
    """The flag, its milestone done, the channel's post, the business-case task, the red
    flag's alerts and re-planning the at-risk reminders: one unit. Returns the ids due now
    (the rest stay owed until their hour)."""
    now, team_id = services.clock(), account.team_id
    health = answer.health
    flag, before = save_flag(
        session,
        account,
        user_id,
        now,
        health=health.value,
        risks=answer.risks,
        expansion=answer.expansion,
    )
    outcome = f"Health {health.value}" + (f": {answer.risks}" if answer.risks else "")
    mark_done(session, team_id, milestone_id, user_id, outcome, now)
    messages = [
        about(
            services,
            account,
            f"{answer.key}-channel",
            account.channel_id or user_id,
            f"Month-5 health flag for {esc(account.name)}: {health.value}",
            blocks=flag_blocks(account, flag),
        )
    ]
    if owner and owner != user_id:
        steps = cycle_milestones(session, team_id, account.id, account.renewal_date)
        prep = next((m.due_date for m in steps if m.key == "month-6"), None)
        messages.append(
            about(
                services,
                account,
                f"{answer.key}-business-case",
                owner,
                f"Month-6 business-case prep for {esc(account.name)}",
                blocks=business_case_task(account, flag, prep),
                **hours[owner],
            )
        )
    if health == Health.RED and (before is None or before.health != Health.RED):
        text = red_flag_text(account, flag, phase_two_end(account.renewal_date))
        for manager in services.managers_of(account):
            messages.append(
                about(
                    services,
                    account,
                    f"red-flag-{account.renewal_date}-{manager}",
                    manager,
                    text,
                    **hours[manager],
                )
            )
    due_now = [i for m in messages for i in enqueue_all(session, [m]) if m.due_at <= now]
    # The weekly at-risk reminders (or their end, after a re-flag) are planned from here.
    set_plan_after(session, team_id, account.id, now)
    return due_now


async def _their_hour(services: Services, account: Account, user_id: str) -> dict[str, Any]:
    tz = await zone(services, account, user_id)
    return {
        "due_at": next_business_hour(services.clock(), tz, services.settings.holidays),
        "tz": tz,
    }
