"""What the renewal clock owes: this cycle's milestones, and their nudges when they near."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache

from sqlmodel import Session

from bot.accounts.commercial import commercial_role
from bot.accounts.ops import nudged, ops_user
from bot.accounts.tiers import tiers_of
from bot.outbox.owe import about
from bot.people.escalation import batch_manager_zones, escalation_messages
from bot.platform.batch import PlanBatch
from bot.platform.kit import esc
from bot.platform.services import Services
from bot.renewal.blocks import at_risk_text, channel_note, escalation_text, nudge_blocks
from flows.calendar import BUSINESS_MORNING, local_instant, next_business_time
from flows.checkins import PRIMARY_DAY
from flows.gate import escalation_time
from flows.health import Health, at_risk_days
from flows.playbook import Step, Tier, load_playbook
from flows.renewal import PlannedMilestone, phase_two_end, plan_cycle
from storage.kinds import MessageKind, Subject
from storage.milestones import (
    Cycles,
    ensure_milestones,
    milestones_of_cycles,
    replaced_cycles_of,
    skip_open,
)
from storage.models import Account, AccountStatus, HealthFlag, Milestone, MilestoneStatus
from storage.outbox import OwedMessage
from storage.renewals import concluded_cycles_of, cycle_flags

# Nudges are owed two weeks ahead: a time-zone change before then still moves them.
HORIZON = timedelta(days=14)


@cache
def playbook() -> dict[str, Step]:
    """Each step by the key of every occurrence of it (a ritual's by each month's key)."""
    return {key: step for step in load_playbook() for key, _ in step.occurrences()}


def planned_cycle(
    services: Services, account: Account, tier: str | None = None
) -> list[PlannedMilestone]:
    return plan_cycle(
        tuple(dict.fromkeys(playbook().values())),
        account.renewal_date,
        commercial_role(services, account),
        services.settings.holidays,
        tier=tier,
        handoff_ends=services.today(account.closed_at) + timedelta(days=PRIMARY_DAY),
    )


def plan_renewal(session: Session, services: Services, batch: PlanBatch) -> None:
    """This cycle's milestones for every live account of the batch (created once), then
    their nudges as they near, and the at-risk reminders of a red flag."""
    live = [a for a in batch.accounts if a.status != AccountStatus.CHURNED]
    today = services.today(batch.now)
    carried = _retire_replaced_cycles(session, live, today)
    tiers = tiers_of(session, services, live, batch.now)  # at most one query, for them all
    rows = batch.each(
        "plan_renewal",
        live,
        lambda account: _cycle_rows(
            services, account, tiers.get(_key(account)), carried.get(_key(account), {}), batch.now
        ),
    )
    planned = [a for a in live if _key(a) in rows]
    cycles = {_key(a): a.renewal_date for a in planned}
    milestones = _drop_unplanned(
        session,
        _created(session, cycles, rows),
        {key: {row["key"] for row in account_rows} for key, account_rows in rows.items()},
    )
    flags = cycle_flags(session, cycles)
    batch.each(
        "plan_renewal",
        planned,
        lambda account: _plan_cycle(
            services, batch, account, milestones[_key(account)], flags.get(_key(account))
        ),
    )


def plan_cycle_in(session: Session, services: Services, account: Account, now: datetime) -> None:
    """The account's current cycle's milestones, created in the caller's unit as the tick's
    planning creates them (no Slack call): e.g. the next cycle, right as a renewal is
    recorded, so `/baton owner` names its first milestone before the next tick owes its
    nudges."""
    carried = _retire_replaced_cycles(session, [account], services.today(now))
    tier = tiers_of(session, services, [account], now).get(_key(account))
    ensure_milestones(
        session, _cycle_rows(services, account, tier, carried.get(_key(account), {}), now)
    )


def _key(account: Account) -> tuple[str, int]:
    return (account.team_id, account.id)


def _created(
    session: Session, cycles: Cycles, rows: dict[tuple[str, int], list[dict]]
) -> dict[tuple[str, int], list[Milestone]]:
    """The cycles' milestones, after creating those the rows say are missing: read first,
    so a cycle planned before (nearly every one) writes nothing."""
    found = milestones_of_cycles(session, cycles)
    have = {key: {m.key for m in steps} for key, steps in found.items()}
    missing = [
        row for key, account_rows in rows.items() for row in account_rows
        if row["key"] not in have.get(key, ())
    ]  # fmt: skip
    if not missing:
        return found
    ensure_milestones(session, missing)
    return milestones_of_cycles(session, cycles)


def _drop_unplanned(
    session: Session,
    milestones: dict[tuple[str, int], list[Milestone]],
    planned: dict[tuple[str, int], set[str]],
) -> dict[tuple[str, int], list[Milestone]]:
    """The cycles' milestones, less the playbook's steps it no longer plans for them (a
    tier the account left): those still open are skipped, not nudged. A key the playbook
    does not know is not its to judge and is kept."""
    kept: dict[tuple[str, int], list[Milestone]] = {}
    dropped: list[Milestone] = []
    known = playbook()
    for key, steps in milestones.items():
        gone = [m for m in steps if m.key in known and m.key not in planned[key]]
        kept[key] = [m for m in steps if m not in gone]
        dropped += [m for m in gone if m.status in (MilestoneStatus.OPEN, MilestoneStatus.SNOOZED)]
    for team_id in {m.team_id for m in dropped}:
        skip_open(session, team_id, [m.id for m in dropped if m.team_id == team_id])
    return kept


def _cycle_rows(
    services: Services,
    account: Account,
    tier: Tier | None,
    carried: dict[str, Milestone],
    now: datetime,
) -> list[dict]:
    """The current cycle's milestones as rows to create (those that exist keep theirs)."""
    today = services.today(now)
    rows = []
    for p in planned_cycle(services, account, tier.name if tier else None):
        before = carried.get(p.key)
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
                "key": p.key,
                "title": p.milestone.title,
                "due_date": p.day,
                "owners": list(p.owners),
                "status": status,
                "snoozes": 0,
                "round": 0,
                "snoozed_until": None,
                "help_requested_at": None,
                "created_at": now,
                "done_at": before.done_at if done else None,
                "done_by": before.done_by if done else None,
                "outcome": before.outcome if done else None,
            }
        )
    return rows


def _plan_cycle(
    services: Services,
    batch: PlanBatch,
    account: Account,
    milestones: list[Milestone],
    flag: HealthFlag | None,
) -> None:
    for milestone in milestones:
        _plan_milestone(services, batch, account, milestone)
    _plan_at_risk(services, batch, account, flag)


def _plan_at_risk(
    services: Services, batch: PlanBatch, account: Account, flag: HealthFlag | None
) -> None:
    """A red month-5 flag: a weekly at-risk reminder to AE and CSM through phase 2."""
    if flag is None or flag.health != Health.RED:
        return
    flagged = flag.flagged_at.astimezone(services.settings.timezone).date()
    days = at_risk_days(flagged, phase_two_end(account.renewal_date), services.settings.holidays)
    today = services.today(batch.now)
    soon = [d for d in days if today - timedelta(days=1) <= d <= today + HORIZON]
    for user_id in dict.fromkeys(filter(None, (account.ae_user_id, account.csm_user_id))):
        tz = batch.zone(account, user_id)
        for day in soon:
            due = local_instant(day, BUSINESS_MORNING, tz)
            batch.owe(
                account,
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
                ),
            )
    later = [d for d in days if d > today + HORIZON]
    if later:  # come back when the next one is two weeks out
        tz = services.settings.timezone
        batch.come_back(account, local_instant(later[0], BUSINESS_MORNING, tz) - HORIZON)


def _retire_replaced_cycles(
    session: Session, accounts: list[Account], today: date
) -> dict[tuple[str, int], dict[str, Milestone]]:
    """When an account's renewal date moved: skip the old cycle's open steps (their owed
    nudges go moot) and return, by account and key, the steps that already had their turn
    (done, or due)."""
    replaced = replaced_cycles_of(session, {_key(a): a.renewal_date for a in accounts}, today)
    if not replaced:
        return {}
    # A cycle that ended in a renewal is history, not a moved date.
    concluded = concluded_cycles_of(session, list(replaced))
    carried: dict[tuple[str, int], dict[str, Milestone]] = {}
    skipped: list[Milestone] = []
    for key, steps in replaced.items():
        steps = [m for m in steps if m.renewal_date not in concluded[key]]
        carried[key] = {
            m.key: m
            for m in steps
            if m.status == MilestoneStatus.DONE
            or (m.status != MilestoneStatus.SKIPPED and m.due_date <= today)
        }
        skipped += [m for m in steps if m.status != MilestoneStatus.DONE]
    for team_id in {m.team_id for m in skipped}:
        skip_open(session, team_id, [m.id for m in skipped if m.team_id == team_id])
    for steps in carried.values():
        for milestone in steps.values():
            if milestone.status != MilestoneStatus.DONE:
                milestone.status = MilestoneStatus.SKIPPED
    return carried


def _plan_milestone(
    services: Services, batch: PlanBatch, account: Account, milestone: Milestone
) -> None:
    now = batch.now
    if milestone.status == MilestoneStatus.OPEN:
        first_due = local_instant(milestone.due_date, BUSINESS_MORNING, services.settings.timezone)
        if first_due - now > HORIZON:
            batch.come_back(account, first_due - HORIZON)  # when it is two weeks out
            return
    elif milestone.status != MilestoneStatus.SNOOZED:
        return
    ops = ops_user(services, account)
    recipients = dict.fromkeys(
        filter(None, (nudged(services, account, role) for role in milestone.owners))
    )
    messages: list[OwedMessage] = []
    round_ = f"ms-{milestone.id}-r{milestone.round}"
    subject = Subject.milestone(milestone.id, milestone.round)
    step = playbook().get(milestone.key)
    ritual = step is not None and step.every > 0
    blocks = nudge_blocks(
        account,
        milestone,
        step.activity if step else "",
        step.goal if step else "",
        list(step.silent) if step else [],
        ops,
    )
    for user_id in recipients:
        tz = batch.zone(account, user_id)
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
        return
    first = min(m.due_at for m in messages)
    if account.channel_id and not ritual:  # a ritual's channel hears its answer only
        messages.append(
            about(
                services,
                account,
                f"{round_}-channel",
                account.channel_id,
                f"Renewal milestone: {milestone.title}",
                blocks=channel_note(account, milestone, ops),
                due_at=first,
                kind=MessageKind.MILESTONE_NUDGE,
                subject=subject,
            )
        )
    batch.owe(account, *messages)
    if ritual:
        return  # a ritual never escalates: unanswered, it shows as overdue in owner and week
    ack_by = escalation_time(
        first, batch.zone(account, messages[0].channel), services.settings.holidays
    )
    batch.owe(
        account,
        *escalation_messages(
            services,
            account,
            f"{round_}-escalation",
            escalation_text(account, milestone, ops),
            ack_by,
            MessageKind.MILESTONE_ESCALATION,
            batch_manager_zones(services, batch, account),
            subject,
        ),
    )
