"""After downtime: overdue milestone nudges go out once, late and labelled, at a sane hour.

Per account only the newest overdue milestone still before its deadline (the renewal date)
is sent; the older ones are named in it and marked skipped. Each message moves into its
recipient's business hours (back at 02:00 local → 09:00 local), and the round's manager
escalation moves with it, so nobody is escalated for a nudge they never had time to see.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.outbox.faults import Failed, account_step, isolated, waiting
from bot.platform.services import Services
from bot.renewal.blocks import labelled_late, late_label
from bot.renewal.relevance import MILESTONE_KINDS
from flows.calendar import next_business_hour
from flows.gate import escalation_time
from flows.renewal import OverdueMilestone, catch_up
from storage.faults import FaultKey
from storage.kinds import MessageKind
from storage.milestones import get_milestone, skip_open
from storage.models import Milestone, MilestoneStatus
from storage.outbox import OverdueMessage, overdue, pending_of_round, reschedule

# Ticks run every few seconds; a nudge this far behind its time was missed, not just due.
LATE_AFTER = timedelta(minutes=30)


async def catch_up_overdue(services: Services, now: datetime) -> int:
    """Settle every overdue message (one query per tick); returns how many were moved."""
    late = await services.db.run(overdue, MILESTONE_KINDS, now - LATE_AFTER)
    by_account: dict[tuple[str, int], list[OverdueMessage]] = defaultdict(list)
    others: list[OverdueMessage] = []
    for row in late:
        if row.claim.kind not in MILESTONE_KINDS:
            others.append(row)
        elif row.claim.account_id is not None and _of_a_round(row):
            by_account[(row.claim.team_id, row.claim.account_id)].append(row)
    moved = 0
    for (team_id, account_id), rows in by_account.items():
        key = account_step(team_id, account_id, "catching up")
        if waiting(services, key, now):
            continue
        done = await isolated(services, key, _catch_up_account(services, team_id, rows, now), now)
        moved += await _held(services, rows, done) if isinstance(done, Failed) else done
    for row in others:
        key = FaultKey(row.claim.team_id, "message", str(row.claim.id), "catching up")
        if waiting(services, key, now):
            continue
        done = await isolated(services, key, _into_business_hours(services, row, now), now)
        moved += await _held(services, [row], done) if isinstance(done, Failed) else done
    return moved


def _of_a_round(row: OverdueMessage) -> bool:
    """Whether its columns say which milestone and round of nudges it belongs to."""
    return row.claim.milestone_id is not None and row.claim.round is not None


async def _held(services: Services, rows: list[OverdueMessage], failed: Failed) -> int:
    """What could not be caught up waits for the retry, rather than going out unlabelled;
    after many failures it is left to delivery as it is."""
    if failed.hopeless:
        return 0
    held = 0
    for row in rows:
        claim = row.claim
        with contextlib.suppress(Exception):
            held += await services.db.run(
                reschedule, claim.team_id, claim.id, failed.retry_at,
                keep_expiry=True,
            )  # fmt: skip
    return held


async def _into_business_hours(services: Services, row: OverdueMessage, now: datetime) -> int:
    """Any other overdue message owed at someone's local hour waits for their morning
    (unless it expires first: then delivery drops it)."""
    if row.local_tz is None:
        return 0
    at = next_business_hour(now, ZoneInfo(row.local_tz), services.settings.holidays)
    if at == now or (row.claim.expires_at is not None and at >= row.claim.expires_at):
        return 0
    return await services.db.run(
        reschedule,
        row.claim.team_id,
        row.claim.id,
        at,
        keep_expiry=True,
    )


async def _catch_up_account(
    services: Services, team_id: str, rows: list[OverdueMessage], now: datetime
) -> int:
    milestones: dict[int, Milestone] = {}
    for row in rows:
        milestone_id = row.claim.milestone_id
        if milestone_id is not None and milestone_id not in milestones:
            found = await services.db.run(get_milestone, team_id, milestone_id)
            if found is not None:
                milestones[milestone_id] = found
    live = {
        m.id: m
        for m in milestones.values()
        if m.status in (MilestoneStatus.OPEN, MilestoneStatus.SNOOZED)
    }
    nudged = {r.claim.milestone_id for r in rows if r.claim.kind == MessageKind.MILESTONE_NUDGE}
    # Only milestones whose nudges are late compete; a late escalation alone just moves.
    competing = [live[i] for i in nudged if i in live]
    today = services.today(now)
    decision = catch_up(
        [OverdueMilestone(m.id, m.due_date, m.renewal_date) for m in competing], today
    )
    skipped = [live[o.id] for o in decision.skipped]
    await services.db.run(skip_open, team_id, [m.id for m in skipped])
    skipped_ids = {m.id for m in skipped}
    sending = live.get(decision.send.id) if decision.send else None
    named = sorted((m for m in skipped if m.renewal_date >= today), key=lambda m: m.due_date)
    holidays = services.settings.holidays
    moved = 0
    first: tuple[datetime, ZoneInfo] | None = None
    for row in rows:
        milestone = live.get(row.claim.milestone_id)
        if milestone is None or row.claim.round != milestone.round or milestone.id in skipped_ids:
            continue  # moot: delivery cancels it
        if milestone is sending and row.claim.kind == MessageKind.MILESTONE_ESCALATION:
            continue  # moved below, from when the late nudge actually goes out
        tz = ZoneInfo(row.local_tz) if row.local_tz else services.settings.timezone
        at = next_business_hour(now, tz, holidays)
        text = blocks = None
        if milestone is sending:
            label = late_label(row.local_date or milestone.due_date, named)
            text, blocks = labelled_late(row.claim.text, row.claim.blocks, label)
            if row.local_tz is not None and (first is None or at < first[0]):
                first = (at, tz)
        moved += await services.db.run(reschedule, team_id, row.claim.id, at, text, blocks)
    if sending is not None and first is not None:
        moved += await _move_escalation(services, team_id, sending, *first)
    return moved


async def _move_escalation(
    services: Services, team_id: str, milestone: Milestone, sent_at: datetime, tz: ZoneInfo
) -> int:
    """Two business days from when the owners actually get the late nudge."""
    holidays = services.settings.holidays
    moved = 0
    escalations = await services.db.run(
        pending_of_round,
        team_id,
        MessageKind.MILESTONE_ESCALATION,
        milestone.id,
        milestone.round,
    )
    for row in escalations:
        manager_tz = ZoneInfo(row.local_tz) if row.local_tz else services.settings.timezone
        at = next_business_hour(escalation_time(sent_at, tz, holidays), manager_tz, holidays)
        moved += await services.db.run(reschedule, team_id, row.claim.id, at)
    return moved
