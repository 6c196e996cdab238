"""What the renewal clock owes: this cycle's milestones, and their nudges when they near."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from bot.accounts.commercial import commercial_role
from bot.outbox.owe import about, owe
from bot.people.escalation import escalate, zone
from bot.platform.kit import esc
from bot.platform.services import Services
from bot.renewal.blocks import at_risk_text, channel_note, escalation_text, nudge_blocks
from flows.calendar import BUSINESS_MORNING, local_instant, next_business_time
from flows.gate import escalation_time
from flows.health import Health, at_risk_days
from flows.playbook import Step, load_playbook
from flows.renewal import PlannedMilestone, phase_two_end, plan_cycle
from storage.kinds import MessageKind, Subject
from storage.milestones import (
    cycle_milestones,
    ensure_milestones,
    replaced_cycles,
    skip_open,
)
from storage.models import Account, AccountStatus, Milestone, MilestoneStatus
from storage.outbox import OwedMessage
from storage.renewals import concluded_cycles, cycle_flag

# Nudges are owed two weeks ahead: a time-zone change before then still moves them.
HORIZON = timedelta(days=14)


@cache
def playbook() -> dict[str, Step]:
    return {step.key: step for step in load_playbook()}


def planned_cycle(services: Services, account: Account) -> list[PlannedMilestone]:
    return plan_cycle(
        tuple(playbook().values()),
        account.renewal_date,
        commercial_role(services, account),
        services.settings.holidays,
    )


async def plan_renewal(services: Services, account: Account, now: datetime) -> list[datetime]:
    if account.status == AccountStatus.CHURNED:
        return []
    today = services.today(now)
    carried = await _retire_replaced_cycles(services, account, today)
    plan = planned_cycle(services, account)
    rows = []
    for p in plan:
        before = carried.get(p.milestone.key)
        if before is not None:
            # Its turn came under the old date: carried over, not nudged a second time.
            status, done = before.status, before.status == MilestoneStatus.DONE
        else:
            # A step whose day had passed before Baton knew of it is skipped, not sent late.
            status = MilestoneStatus.SKIPPED if p.day < today else MilestoneStatus.OPEN
            done = False
        rows.append(
            {
                "team_id": account.team_id,
                "account_id": account.id,
                "renewal_date": account.renewal_date,
                "key": p.milestone.key,
                "title": p.milestone.title,
                "due_date": p.day,
                "owners": list(p.owners),
                "status": status,
                "snoozes": 0,
                "created_at": now,
                "done_at": before.done_at if done else None,
                "done_by": before.done_by if done else None,
                "outcome": before.outcome if done else None,
            }
        )
    await services.db.run(ensure_milestones, rows)
    milestones = await services.db.run(
        cycle_milestones, account.team_id, account.id, account.renewal_date
    )
    times: list[datetime] = []
    for milestone in milestones:
        times += await _plan_milestone(services, account, milestone, now)
    return times + await plan_at_risk(services, account, now)


async def plan_at_risk(services: Services, account: Account, now: datetime) -> list[datetime]:
    """A red month-5 flag: a weekly at-risk reminder to AE and CSM through phase 2."""
    flag = await services.db.run(cycle_flag, account.team_id, account.id, account.renewal_date)
    if flag is None or flag.health != Health.RED:
        return []
    flagged = flag.flagged_at.astimezone(services.settings.timezone).date()
    days = at_risk_days(flagged, phase_two_end(account.renewal_date), services.settings.holidays)
    today = services.today(now)
    soon = [d for d in days if today - timedelta(days=1) <= d <= today + HORIZON]
    messages = []
    for user_id in dict.fromkeys(filter(None, (account.ae_user_id, account.csm_user_id))):
        tz = await zone(services, account, user_id)
        for day in soon:
            due = local_instant(day, BUSINESS_MORNING, tz)
            messages.append(
                about(
                    services,
                    account,
                    f"at-risk-{account.renewal_date}-{day}-{user_id}",
                    user_id,
                    at_risk_text(account, flag),
                    due_at=due,
                    kind=MessageKind.AT_RISK_REMINDER,
                    expires_at=due + timedelta(hours=8),
                    tz=tz,
                )
            )
    await owe(services, *messages)
    times = [m.due_at for m in messages]
    later = [d for d in days if d > today + HORIZON]
    if later:  # come back when the next one is two weeks out
        times.append(
            local_instant(later[0], BUSINESS_MORNING, services.settings.timezone) - HORIZON
        )
    return times


async def _retire_replaced_cycles(
    services: Services, account: Account, today: date
) -> dict[str, Milestone]:
    """When the renewal date moved: skip the old cycle's open steps (their owed nudges go
    moot) and return, by key, the steps that already had their turn (done, or due)."""
    replaced = await services.db.run(
        replaced_cycles, account.team_id, account.id, account.renewal_date, today
    )
    if replaced:  # a cycle that ended in a renewal is history, not a moved date
        concluded = await services.db.run(concluded_cycles, account.team_id, account.id)
        replaced = [m for m in replaced if m.renewal_date not in concluded]
    had_turn = {
        m.key: m
        for m in replaced
        if m.status == MilestoneStatus.DONE
        or (m.status != MilestoneStatus.SKIPPED and m.due_date <= today)
    }
    await services.db.run(
        skip_open,
        account.team_id,
        [m.id for m in replaced if m.status != MilestoneStatus.DONE],
    )
    for milestone in had_turn.values():
        if milestone.status != MilestoneStatus.DONE:
            milestone.status = MilestoneStatus.SKIPPED
    return had_turn


async def _plan_milestone(
    services: Services, account: Account, milestone: Milestone, now: datetime
) -> list[datetime]:
    if milestone.status == MilestoneStatus.OPEN:
        first_due = local_instant(milestone.due_date, BUSINESS_MORNING, services.settings.timezone)
        if first_due - now > HORIZON:
            return [first_due - HORIZON]  # come back when it is two weeks out
    elif milestone.status != MilestoneStatus.SNOOZED:
        return []
    recipients = [(role, account.user_of(role)) for role in milestone.owners if role != "ops"]
    messages: list[OwedMessage] = []
    round_ = f"ms-{milestone.id}-r{milestone.round}"
    subject = Subject.milestone(milestone.id, milestone.round)
    step = playbook().get(milestone.key)
    blocks = nudge_blocks(
        account,
        milestone,
        step.activity if step else "",
        step.goal if step else "",
        list(step.silent) if step else [],
    )
    for _role, user_id in recipients:
        if not user_id:
            continue
        tz = await zone(services, account, user_id)
        due = (
            next_business_time(milestone.snoozed_until, tz, holidays=services.settings.holidays)
            if milestone.status == MilestoneStatus.SNOOZED and milestone.snoozed_until
            else local_instant(milestone.due_date, BUSINESS_MORNING, tz)
        )
        messages.append(
            about(
                services,
                account,
                f"{round_}-{user_id}",
                user_id,
                f"{milestone.title} for {esc(account.name)} is due.",
                blocks=blocks,
                due_at=due,
                kind=MessageKind.MILESTONE_NUDGE,
                subject=subject,
                tz=tz,
            )
        )
    if not messages:
        return []
    first = min(m.due_at for m in messages)
    if account.channel_id:
        messages.append(
            about(
                services,
                account,
                f"{round_}-channel",
                account.channel_id,
                f"Renewal milestone: {milestone.title}",
                blocks=channel_note(account, milestone),
                due_at=first,
                kind=MessageKind.MILESTONE_NUDGE,
                subject=subject,
            )
        )
    await owe(services, *messages)
    ack_by = escalation_time(
        first, await zone(services, account, messages[0].channel), services.settings.holidays
    )
    escalated = await escalate(
        services,
        account,
        f"{round_}-escalation",
        escalation_text(account, milestone),
        ack_by,
        MessageKind.MILESTONE_ESCALATION,
        subject,
    )
    return [m.due_at for m in messages] + escalated
