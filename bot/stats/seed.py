"""`baton seed --book N [--seed S] [--team ID]`: a year of made-up history written into a
demo or trial database, so that `/baton stats`, its alerts and the report have something
to show.

The plan is `flows.seed.plan_book`'s; this writes it 250 accounts to a unit of work, in
the shapes the live code writes (accounts as the intake makes them, with the storage
layer's `create_accounts`, `ensure_milestones` and `upsert_person`; the rest as
`save_part`, `record_checkin`, `save_rating`, `record_renewal`/`record_churn` and the
outbox leave their rows). Nothing is ever owed for a seeded account: it is set up already
(no channel, `setup_due_at` None), never due for planning (`plan_after` None), has no
manager's user id (no Monday digest), and every outbox row it has was sent. A seeded
account's CRM id begins with `seed-`; a workspace with any other account is refused.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bot.platform.services import Services
from bot.platform.settings import Settings
from bot.stats.seed_args import add_parser  # noqa: F401 (the command's arguments)
from flows.playbook import load_playbook
from flows.seed import CRM_PREFIX, SeedAccount, SeedPerson, SeedPlan, plan_book
from storage.accounts import create_accounts
from storage.db import insert_for
from storage.kinds import MessageKind, SubjectType
from storage.migrate import upgrade
from storage.milestones import ensure_milestones
from storage.models import (
    Account,
    Checkin,
    Milestone,
    OutboxMessage,
    OutboxStatus,
    OwnershipEvent,
    Packet,
    PacketRating,
    PacketVersion,
    RenewalOutcome,
)
from storage.people import upsert_person
from storage.workspaces import remember_workspace, workspace_ids

BATCH = 250  # accounts to a unit of work
REFUSED = 2
MakeServices = Callable[[Settings], Services]


class Refused(Exception):
    """One sentence: why this database is not seeded."""


@dataclass(frozen=True)
class Seeded:
    team_id: str
    accounts: int
    seconds: float


def run_seed(args: argparse.Namespace, settings: Settings, make_services: MakeServices) -> int:
    """`baton seed`: 0 seeded, 2 refused (one sentence on stderr)."""
    return asyncio.run(_main(args, settings, make_services))


async def _main(args: argparse.Namespace, settings: Settings, make_services: MakeServices) -> int:
    services = make_services(settings)
    try:
        await services.db.on_engine(upgrade)
        seeded = await seed_book(services, args.book, args.seed, args.team)
    except Refused as refused:
        print(f"baton: {refused}", file=sys.stderr)
        return REFUSED
    finally:
        services.engine.dispose()
    print(
        f"baton: seeded {seeded.accounts:,} accounts with a year of history into workspace "
        f"{seeded.team_id} in {seeded.seconds:.1f} s: try `/baton stats` (or `/baton stats 365`)."
    )
    return 0


async def seed_book(services: Services, book: int, seed: int, team: str | None = None) -> Seeded:
    """Plan and write the book; raises Refused (nothing written) for a real book."""
    started = time.monotonic()
    now = services.clock()
    team_id = await services.db.run(_workspace_for, team, now, immediate=True)
    await services.db.run(_check_empty, team_id)
    settings = services.settings
    plan = plan_book(
        book,
        seed,
        now,
        load_playbook(),
        threshold=settings.baton_arr_threshold,
        holidays=settings.holidays,
    )
    await services.db.run(_write_people, team_id, plan.people, now, immediate=True)
    for batch in _batches(plan.accounts, BATCH):
        await services.db.run(_write_batch, team_id, plan, batch, immediate=True)
    return Seeded(team_id, len(plan.accounts), time.monotonic() - started)


def _batches(items: Sequence[SeedAccount], size: int) -> Iterator[Sequence[SeedAccount]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _workspace_for(session: Session, team: str | None, now: datetime) -> str:
    teams = workspace_ids(session)
    if team is not None:
        if team in teams:
            return team
        if teams:
            raise Refused(f"{team} is not a workspace Baton is in (it is in {', '.join(teams)}).")
        remember_workspace(session, team, "Seeded workspace", None, now)
        return team
    if len(teams) == 1:
        return teams[0]
    if not teams:
        raise Refused("there is no workspace yet: give the team id to seed with --team T.")
    raise Refused(f"Baton is in several workspaces ({', '.join(teams)}): pick one with --team T.")


def _check_empty(session: Session, team_id: str) -> None:
    """Seeding is for a demo or trial database: never into a real book, and only once."""
    real = session.scalar(
        select(func.count())
        .select_from(Account)
        .where(Account.team_id == team_id, Account.crm_id.not_like(f"{CRM_PREFIX}%"))
    )
    if real:
        raise Refused(
            f"workspace {team_id} has {real:,} real accounts: seeding is only for a demo or "
            "trial database, never a real book, so nothing was written."
        )
    seeded = session.scalar(
        select(func.count()).select_from(Account).where(Account.team_id == team_id)
    )
    if seeded:
        raise Refused(
            f"workspace {team_id} is seeded already ({seeded:,} accounts): seed a fresh "
            "database to seed again."
        )


def _write_people(
    session: Session, team_id: str, people: Sequence[SeedPerson], now: datetime
) -> None:
    for person in people:
        upsert_person(
            session,
            team_id,
            person.user_id,
            email=person.email,
            real_name=person.name,
            tz=person.tz,
            now=now,
        )


def _write_batch(
    session: Session, team_id: str, plan: SeedPlan, batch: Sequence[SeedAccount]
) -> None:
    created = create_accounts(session, [_account_row(team_id, a) for a in batch])
    ids = {crm: account.id for (_, crm), (account, _) in created.items()}
    pairs = [(a, ids[a.crm_id]) for a in batch]
    _insert(session, Packet, [_packet(team_id, a, i) for a, i in pairs if a.packet_at])
    _insert(session, PacketVersion, [_version(team_id, a, i) for a, i in pairs if a.packet_at])
    _insert(session, OwnershipEvent, [o for a, i in pairs for o in _ownership(team_id, a, i)])
    _insert(session, PacketRating, [_rating(team_id, a, i) for a, i in pairs if a.rated_at])
    _insert(session, RenewalOutcome, [o for a, i in pairs for o in _outcomes(team_id, a, i)])
    _insert(session, Checkin, [c for a, i in pairs for c in _checkins(team_id, a, i)])
    ensure_milestones(session, [m for a, i in pairs for m in _milestones(team_id, a, i)])
    milestone_ids = _milestone_ids(session, team_id, [i for _, i in pairs])
    checkin_ids = _checkin_ids(session, team_id, [i for _, i in pairs])
    messages = [
        m for a, i in pairs for m in _messages(team_id, a, i, milestone_ids, checkin_ids, plan.now)
    ]
    _insert(session, OutboxMessage, messages)


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert_for(session)(model.__table__), rows)


def _account_row(team_id: str, a: SeedAccount) -> dict[str, Any]:
    """`bot.handoff.intake.account_values` as it was at the close, and what the handoff
    and the renewals have written since; set up, with nothing owed."""
    closed = a.closed_at
    return {
        "team_id": team_id,
        "crm_id": a.crm_id,
        "name": a.name,
        "arr": a.arr,
        "currency": "USD",
        "contract_start": a.contract_start,
        "renewal_date": a.renewal_date,
        "term_months": a.term_months,
        "segment": "Enterprise" if a.first_arr >= 75000 else "Mid-market",
        "crm_url": None,
        "ae_email": a.ae.email,
        "csm_email": a.csm.email,
        "am_email": a.am.email if a.am else None,
        "manager_email": a.manager.email,
        "champion_email": None,
        "ae_user_id": a.ae.user_id,
        "csm_user_id": a.csm.user_id,
        "am_user_id": a.am.user_id if a.am else None,
        "manager_user_id": None,  # a manager's user id would owe them a Monday digest
        "channel_id": None,
        "channel_name": None,
        "retention_model": a.model,
        "status": a.status,
        "closed_at": closed,
        "provisioned_at": closed,
        "people_checked_at": closed,
        "setup_due_at": None,
        "plan_after": None,
        "packet_completed_at": a.packet_completed_at,
        "csm_acknowledged_at": a.csm_acknowledged_at,
        "kickoff_held_at": a.kickoff_held_at,
        "kickoff_held_by": a.ae.user_id if a.kickoff_held_at else None,
        "first_value_at": a.first_value_at,
        "churned_at": a.churned_at,
        "crm_updated_at": closed,
        "created_at": closed,
        "updated_at": a.churned_at or a.packet_completed_at or closed,
    }


def _packet(team_id: str, a: SeedAccount, account_id: int) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "account_id": account_id,
        "answers": a.packet_answers,
        "version": 1,
        "ae_part_by": a.ae.user_id,
        "ae_part_at": a.packet_at,
        "marketing_part_by": a.ae.user_id if "marketing" in a.packet_answers else None,
        "marketing_part_at": a.packet_at if "marketing" in a.packet_answers else None,
    }


def _version(team_id: str, a: SeedAccount, account_id: int) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "account_id": account_id,
        "version": 1,
        "part": "ae",
        "edited_by": a.ae.user_id,
        "edited_at": a.packet_at,
        "changes": {key: [None, value] for key, value in sorted(a.packet_answers.items())},
    }


def _ownership(team_id: str, a: SeedAccount, account_id: int) -> list[dict[str, Any]]:
    return [
        {
            "team_id": team_id,
            "account_id": account_id,
            "at": entry.at,
            "cause": entry.cause,
            "actor": None,
            "ae_user_id": entry.ae.user_id,
            "csm_user_id": a.csm.user_id,
            "am_user_id": a.am.user_id if a.am else None,
            "retention_model": a.model,
            "commercial": a.commercial,
            "note": None,
        }
        for entry in a.ownership
    ]


def _rating(team_id: str, a: SeedAccount, account_id: int) -> dict[str, Any]:
    return {
        "team_id": team_id,
        "account_id": account_id,
        "rated_by": a.csm.user_id,
        "rating": a.rating,
        "missing": list(a.missing),
        "comment": None,
        "created_at": a.rated_at,
    }


def _outcomes(team_id: str, a: SeedAccount, account_id: int) -> list[dict[str, Any]]:
    return [
        {
            "team_id": team_id,
            "account_id": account_id,
            "renewal_date": o.renewal_date,
            "outcome": o.outcome,
            "new_renewal_date": o.new_renewal_date,
            "new_arr": o.new_arr,
            "reason": o.reason,
            "note": None,
            "effective_date": o.effective_date,
            "recorded_by": a.csm.user_id if o.outcome == "churned" else a.ae.user_id,
            "recorded_at": o.recorded_at,
            "handback_held_at": None,
            "handback_held_by": None,
        }
        for o in a.outcomes
    ]


def _checkins(team_id: str, a: SeedAccount, account_id: int) -> list[dict[str, Any]]:
    return [
        {
            "team_id": team_id,
            "account_id": account_id,
            "number": c.number,
            "submission_key": f"{a.crm_id}-checkin-{c.number}",
            "logged_by": a.csm.user_id,
            "checkin_date": c.at.date(),
            "summary": "Onboarding on track." if not c.mismatch else "Not what they were sold.",
            "sentiment": c.sentiment,
            "mismatch": c.mismatch,
            "promised": "A native CRM sync in the first month." if c.mismatch else None,
            "next_steps": "Weekly sync with the champion.",
            "first_value": c.first_value,
            "channel_id": None,
            "message_ts": None,
            "clarified_at": c.clarified_at,
            "clarified_by": a.ae.user_id if c.clarified_at else None,
            "clarification": "Promised for the next quarter, not the first month."
            if c.clarified_at
            else None,
            "edited_by": None,
            "created_at": c.at,
            "updated_at": c.at,
        }
        for c in a.checkins
    ]


def _milestones(team_id: str, a: SeedAccount, account_id: int) -> list[dict[str, Any]]:
    return [
        {
            "team_id": team_id,
            "account_id": account_id,
            "renewal_date": m.renewal_date,
            "key": m.key,
            "title": m.title,
            "due_date": m.due_date,
            "owners": list(m.owners),
            "status": m.status,
            "snoozes": 0,
            "round": 0,
            "snoozed_until": None,
            "done_at": m.done_at,
            "done_by": a.user_of(m.owners[0]) if m.done_at else None,
            "outcome": "Done." if m.done_at else None,
            "help_requested_at": None,
            "created_at": a.closed_at,
        }
        for m in a.milestones
    ]


def _milestone_ids(session: Session, team_id: str, account_ids: list[int]) -> dict[tuple, int]:
    rows = session.execute(
        select(Milestone.account_id, Milestone.renewal_date, Milestone.key, Milestone.id).where(
            Milestone.team_id == team_id, Milestone.account_id.in_(account_ids)
        )
    )
    return {(account, cycle, key): i for account, cycle, key, i in rows}


def _checkin_ids(session: Session, team_id: str, account_ids: list[int]) -> dict[tuple, int]:
    rows = session.execute(
        select(Checkin.account_id, Checkin.number, Checkin.id).where(
            Checkin.team_id == team_id, Checkin.account_id.in_(account_ids)
        )
    )
    return {(account, number): i for account, number, i in rows}


def _messages(
    team_id: str,
    a: SeedAccount,
    account_id: int,
    milestone_ids: dict[tuple, int],
    checkin_ids: dict[tuple, int],
    now: datetime,
) -> list[dict[str, Any]]:
    """The outbox rows the live code would have left, every one sent: the gate's and the
    mismatches' escalations, each milestone's nudges and, when nobody acted, its
    escalation. The dedupe keys are the live ones (`bot.outbox.owe.about`)."""
    rows = []
    manager = a.manager.user_id
    account = (SubjectType.ACCOUNT, str(account_id), None, None)
    if a.gate_escalated_at:
        rows.append(
            _sent(
                team_id,
                account_id,
                f"gate-escalation-{manager}:{account_id}",
                MessageKind.GATE_ESCALATION,
                manager,
                f"The handoff packet for {a.name} is still missing.",
                a.gate_escalated_at,
                account,
            )
        )
    for c in a.checkins:
        if c.escalated_at is None:
            continue
        checkin_id = checkin_ids[(account_id, c.number)]
        rows.append(
            _sent(
                team_id,
                account_id,
                f"mismatch-escalation-{checkin_id}-{manager}:{account_id}",
                MessageKind.MISMATCH_ESCALATION,
                manager,
                f"A check-in on {a.name} flagged an expectation mismatch, unanswered.",
                c.escalated_at,
                (SubjectType.CHECKIN, str(checkin_id), None, None),
            )
        )
    for m in a.milestones:
        milestone_id = milestone_ids[(account_id, m.renewal_date, m.key)]
        subject = (SubjectType.MILESTONE, str(milestone_id), milestone_id, 0)
        round_ = f"ms-{milestone_id}-r0"
        for user_id in dict.fromkeys(a.user_of(role) for role in m.owners):
            if user_id:
                rows.append(
                    _sent(
                        team_id,
                        account_id,
                        f"{round_}-{user_id}:{account_id}",
                        MessageKind.MILESTONE_NUDGE,
                        user_id,
                        f"{m.title} for {a.name} is due.",
                        m.nudged_at,
                        subject,
                    )
                )
        if m.escalated_at is not None:
            rows.append(
                _sent(
                    team_id,
                    account_id,
                    f"{round_}-escalation-{manager}:{account_id}",
                    MessageKind.MILESTONE_ESCALATION,
                    manager,
                    f"Nobody has acknowledged {m.title} for {a.name}.",
                    m.escalated_at,
                    subject,
                )
            )
    return [row for row in rows if row["sent_at"] < now]


def _sent(
    team_id: str,
    account_id: int,
    key: str,
    kind: MessageKind,
    channel: str,
    text: str,
    at: datetime,
    subject: tuple[str, str, int | None, int | None],
) -> dict[str, Any]:
    """An outbox row as `storage.outbox` leaves a message Slack accepted."""
    subject_type, subject_id, milestone_id, round_ = subject
    return {
        "team_id": team_id,
        "dedupe_key": key,
        "kind": kind,
        "account_id": account_id,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "milestone_id": milestone_id,
        "round": round_,
        "channel": channel,
        "text": text,
        "blocks": None,
        "thread_ts": None,
        "due_at": at,
        "expires_at": None,
        "status": OutboxStatus.SENT,
        "claim_token": None,
        "claimed_at": at,
        "next_check_at": None,
        "attempts": 1,
        "last_error": None,
        "sent_channel": "D" + channel[1:],
        "sent_ts": f"{at.timestamp():.6f}",
        "sent_at": at,
        "local_date": None,
        "local_time": None,
        "local_tz": None,
        "created_at": at,
    }
