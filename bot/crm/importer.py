"""`baton import`: a checked book of accounts written in, batch by batch, and its set-up in
Slack worked through the rate budget.

Each batch of rows is one unit of work: its new accounts (each placed in its current phase,
`flows.crm.import_rows.place`), the first entry of their ownership trail ("CSV import"),
and the CRM update of those Baton already has (`bot.handoff.intake.apply_crm`, as a
redelivered webhook deal). Ctrl-C between batches leaves whole accounts only, and a batch in
flight is finished first; the same file again finds every account "unchanged".

The set-up in Slack is the queue's: new accounts are owed it like a webhook deal
(`setup_due_at`), and `work_setup` works the queue as the set-up worker does (each due
account through `provision`, its failure its own) until every account of the file is set
up, waiting whenever the rate budget says wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from datetime import time as wall_time
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from sqlmodel import Session

from bot.accounts.facts import holders_of
from bot.handoff.intake import TRACKED, account_values, apply_crm
from bot.handoff.provision import provision
from bot.handoff.setup_queue import BATCH as SETUP_BATCH
from bot.outbox.faults import Failed, account_step, isolated, load_faults, waiting
from bot.outbox.owe import deliver_now
from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from flows.calendar import local_instant
from flows.crm.import_rows import Checked, Row, kept_on_update, place, shown
from flows.intake import ClosedWon
from storage.accounts import create_accounts, setup_due
from storage.imports import (
    accounts_by_crm_ids,
    first_ownership,
    queue_setup,
    queued_setups,
    refresh_statistics,
)
from storage.models import Account, AccountStatus

T = TypeVar("T")
BATCH = 500  # rows per unit of work
ANALYZE_FROM = 2000  # new accounts: the planner's statistics are refreshed from here on
CAUSE = (
    "CSV import"  # the ownership trail's cause (created, updated): the webhook's is "CRM update"
)
CLOSED_AT = wall_time(12)  # an older deal's close: noon, local, on its contract's start
SETUP_STEP = "provisioning"  # bot.handoff.setup_queue's step (its faults' key)
LOOK_S = 0.5  # how often a wait looks at the clock (a test's clock moves by jumps)
IDLE_S = 5.0  # nothing could be taken (another process holds it): look again after this
PATIENCE_S = 600.0  # nothing moved for this long, and nothing said wait: stop


@dataclass(frozen=True)
class Options:
    channels: bool  # owe each new account its set-up in Slack
    request_packets: bool  # ask for the packet of deals past the handoff, too
    source: str  # the file's name, for the ownership trail


@dataclass
class Tally:
    """What a batch (or the whole import) did, or would do (a dry run)."""

    created: int = 0
    new_handoffs: int = 0  # of those created: handed off as new deals
    updated: int = 0
    unchanged: int = 0
    older: int = 0  # the account has newer CRM news than the row's updated_at
    queued: int = 0  # known accounts, imported without channels before, now queued
    fields: Counter[str] = field(default_factory=Counter)  # updated field → how many
    ids: list[int] = field(default_factory=list)  # every account of the file
    owed: list[int] = field(default_factory=list)  # messages the updates owe
    rows: int = 0

    def add(self, other: Tally) -> None:
        for name in ("created", "new_handoffs", "updated", "unchanged", "older", "queued", "rows"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.fields.update(other.fields)
        self.ids += other.ids
        self.owed += other.owed


@dataclass(frozen=True)
class Written:
    tally: Tally
    interrupted: bool  # Ctrl-C: the batches after the one in flight were not written
    batches: int
    of_batches: int


# --- writing --------------------------------------------------------------------------
async def write_rows(
    services: Services,
    team_id: str,
    checked: Checked,
    options: Options,
    progress: Callable[[int], None] = lambda _rows: None,
) -> Written:
    """Every row, BATCH at a time, each batch one unit; `progress` hears the rows done."""
    tally = Tally()
    mapped = frozenset(checked.layout.columns)
    batches = [checked.rows[i : i + BATCH] for i in range(0, len(checked.rows), BATCH)]
    analyzed = ANALYZE_FROM // 2
    for done, rows in enumerate(batches, start=1):
        if tally.created >= 2 * analyzed:  # the table doubled since the planner looked
            _, interrupted = await whole(services.db.run(refresh_statistics))
            if interrupted:
                return Written(tally, True, done - 1, len(batches))
            analyzed = tally.created
        unit = services.db.run(
            write_batch,
            services,
            team_id,
            rows,
            mapped,
            options,
            services.clock(),
            immediate=True,
        )
        batch, interrupted = await whole(unit)
        tally.add(batch)
        progress(tally.rows)
        if interrupted:
            return Written(tally, True, done, len(batches))
    return Written(tally, False, len(batches), len(batches))


async def whole(work: Awaitable[T], stopping: Callable[[], None] = lambda: None) -> tuple[T, bool]:
    """`work` run to its end even if Ctrl-C comes meanwhile: (its result, whether it came).
    A unit of work runs on in its thread anyway: it is waited for, so what is said after
    is what was committed (`stopping` is told, to say so meanwhile)."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task), False
    except asyncio.CancelledError:
        stopping()
        with contextlib.suppress(Exception):
            return await task, True
        raise  # it failed after all: the stop is what is left to do


def write_batch(
    session: Session,
    services: Services,
    team_id: str,
    rows: Sequence[Row],
    mapped: frozenset[str],
    options: Options,
    now: datetime,
) -> Tally:
    """One unit: the batch's new accounts and their trail, and the update of known ones."""
    tally = Tally(rows=len(rows))
    # Read first: a re-run (every row known) then inserts nothing at all.
    known_before = accounts_by_crm_ids(session, team_id, [row.deal.crm_id for row in rows])
    fresh = [row for row in rows if row.deal.crm_id not in known_before]
    placed = {row.deal.crm_id: _new_account(services, team_id, row, options, now) for row in fresh}
    accounts = {
        (team_id, crm_id): (account, False) for crm_id, account in known_before.items()
    } | create_accounts(session, [values for values, _new in placed.values()])
    events = []
    known: list[int] = []
    for row in rows:
        account, created = accounts[(team_id, row.deal.crm_id)]
        tally.ids.append(account.id)
        if created:
            tally.created += 1
            tally.new_handoffs += placed[row.deal.crm_id][1]
            events.append(_first_event(services, account, row, options, now))
        else:
            _update(session, services, account, row, mapped, options, now, tally)
            known.append(account.id)
    first_ownership(session, events)
    if options.channels and known:
        tally.queued = queue_setup(session, team_id, known, now)
    return tally


def _new_account(
    services: Services, team_id: str, row: Row, options: Options, now: datetime
) -> tuple[dict[str, Any], bool]:
    """The webhook's account (`account_values`), placed where the deal is in its life:
    (its row, whether it is handed off as a new deal)."""
    deal = row.deal
    values = account_values(services, team_id, deal, now) | {
        "crm_updated_at": deal.updated_at,
        "packet_completed_at": None,
        "kickoff_held_at": None,
        "setup_due_at": now if options.channels else None,
    }
    placed = place(
        deal.contract_start, services.today(now), request_packets=options.request_packets
    )
    if placed.new_handoff or placed.closed_on is None:
        return values, True
    closed = local_instant(placed.closed_on, CLOSED_AT, services.settings.timezone)
    values |= {
        "closed_at": closed,
        # The kickoff's week is long gone: no reminder for it.
        "kickoff_held_at": closed,
    }
    if not placed.packet_requested:
        # Handed off before Baton knew of it: no packet asked for, no gate reminders.
        values |= {"status": AccountStatus.HANDED_OFF, "packet_completed_at": closed}
    return values, False


def _first_event(
    services: Services, account: Account, row: Row, options: Options, now: datetime
) -> dict[str, Any]:
    holders = holders_of(services, account)
    return {
        "team_id": account.team_id,
        "account_id": account.id,
        "at": now,
        "cause": CAUSE,
        "actor": None,
        "note": f"{shown(options.source)}, row {row.number}",
        "ae_user_id": holders.ae_user_id,
        "csm_user_id": holders.csm_user_id,
        "am_user_id": holders.am_user_id,
        "retention_model": holders.retention_model,
        "commercial": holders.commercial,
    }


def wanted_deal(account: Account, row: Row, mapped: frozenset[str]) -> ClosedWon:
    """The row's deal, with what the file does not say taken from the account as it is."""
    kept = kept_on_update(mapped, row.given, TRACKED)
    return replace(row.deal, **{name: getattr(account, name) for name in kept})


def changes(account: Account, deal: ClosedWon) -> list[str]:
    """The tracked fields the deal would change (as `update_from_crm` compares them)."""
    return [name for name in TRACKED if not _same(getattr(account, name), getattr(deal, name))]


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return Decimal(old or 0) == Decimal(new or 0)
    return old == new


def _newer_news(account: Account, deal: ClosedWon) -> bool:
    crm_time, known = deal.updated_at, account.crm_updated_at
    return crm_time is not None and (known is None or crm_time > known)


def _update(
    session: Session,
    services: Services,
    account: Account,
    row: Row,
    mapped: frozenset[str],
    options: Options,
    now: datetime,
    tally: Tally,
) -> None:
    """A known account: the CRM update the webhook makes of a redelivered deal."""
    deal = wanted_deal(account, row, mapped)
    if not changes(account, deal) and not _newer_news(account, deal):
        tally.unchanged += 1
        return
    queued_before = account.setup_due_at
    applied = apply_crm(
        session, services, account.team_id, account.id, deal, deal.updated_at, now, CAUSE
    )
    if applied is None:
        tally.older += 1
        return
    account, changed, owed = applied
    if not changed:
        tally.unchanged += 1
        return
    if not options.channels and account.provisioned_at is None and queued_before is None:
        account.setup_due_at = None  # imported without channels: still none wanted
    tally.updated += 1
    tally.fields.update(changed.keys())
    tally.owed += owed


async def deliver_updates(services: Services, owed: list[int]) -> None:
    """What the updates owe, sent now as the webhook would, until Slack's limits hold some
    back: those, and the rest, are the tick's (they are owed in the outbox already)."""
    for start in range(0, len(owed), BATCH):
        if (await deliver_now(services, owed[start : start + BATCH])).deferred:
            return


# --- a dry run ------------------------------------------------------------------------
async def predict(services: Services, team_id: str | None, checked: Checked) -> Tally:
    """What `write_rows` would do, read without writing (no workspace yet: all new)."""
    tally = Tally(rows=len(checked.rows))
    mapped = frozenset(checked.layout.columns)
    today = services.today()
    for start in range(0, len(checked.rows), BATCH):
        rows = checked.rows[start : start + BATCH]
        known = (
            await services.db.run(accounts_by_crm_ids, team_id, [r.deal.crm_id for r in rows])
            if team_id
            else {}
        )
        for row in rows:
            account = known.get(row.deal.crm_id)
            if account is None:
                tally.created += 1
                tally.new_handoffs += place(
                    row.deal.contract_start, today, request_packets=False
                ).new_handoff
                continue
            deal = wanted_deal(account, row, mapped)
            changed = changes(account, deal)
            if not changed:
                tally.unchanged += 1
            elif (
                deal.updated_at
                and account.crm_updated_at
                and (deal.updated_at < account.crm_updated_at)
            ):
                tally.older += 1
            else:
                tally.updated += 1
                tally.fields.update(changed)
    return tally


# --- the set-up in Slack --------------------------------------------------------------
@dataclass(frozen=True)
class SetupView:
    """What the progress bar shows."""

    done: int
    total: int
    waiting_s: float | None = None  # the rate budget says wait this long
    stopping: bool = False  # Ctrl-C: finishing the accounts in hand


@dataclass(frozen=True)
class SetupDone:
    set_up: int
    still_queued: int
    failing: int  # of those still queued: a step failed, retried later with backoff
    interrupted: bool


async def work_setup(
    services: Services,
    team_id: str,
    ids: Sequence[int],
    show: Callable[[SetupView], None] = lambda _view: None,
) -> SetupDone:
    """The set-up queue worked, with the set-up worker's own pass, until every account of
    `ids` that was owed its set-up has it, or what is left is failing (its retries are the
    queue's: `baton run`, or the import run again), or Ctrl-C (the pass in hand is
    finished first: a channel Slack made is always recorded)."""
    await load_faults(services)
    queued = list(await services.db.run(queued_setups, team_id, ids))
    progress = _Progress(len(queued), show)
    try:
        return await _work(services, team_id, queued, progress)
    except asyncio.CancelledError:
        left = await services.db.run(queued_setups, team_id, queued)
        return SetupDone(progress.total - len(left), len(left), 0, True)


@dataclass
class _Progress:
    total: int
    show: Callable[[SetupView], None]
    done: int = 0

    def at(self, left: int, waiting_s: float | None = None, stopping: bool = False) -> None:
        self.done = self.total - left
        self.show(SetupView(self.done, self.total, waiting_s, stopping))

    def stop(self, left: int) -> None:
        self.at(left, stopping=True)


async def _work(
    services: Services, team_id: str, queued: list[int], progress: _Progress
) -> SetupDone:
    stalled_since: float | None = None
    while True:
        left = await services.db.run(queued_setups, team_id, queued)
        progress.at(len(left))
        now = services.clock()
        failing = {i for i in left if waiting(services, account_step(team_id, i, SETUP_STEP), now)}
        if len(failing) == len(left):
            return SetupDone(progress.done, len(left), len(failing), False)
        soonest = min(due for i, due in left.items() if i not in failing)
        if soonest > now:  # postponed: Slack's rate limits said wait (here or elsewhere)
            await _wait(services, soonest, len(left), progress)
            continue
        wait_s = await _pass(services, set(left), progress)
        if wait_s is not None:
            await _wait(services, services.clock() + timedelta(seconds=wait_s), len(left), progress)
            continue
        if len(await services.db.run(queued_setups, team_id, queued)) < len(left):
            stalled_since = None
            continue
        # Due, yet nothing was taken: another process holds them. Give it time.
        stalled_since = stalled_since or time.monotonic()
        if time.monotonic() - stalled_since > PATIENCE_S:
            return SetupDone(progress.done, len(left), 0, False)
        await asyncio.sleep(IDLE_S)


async def _pass(services: Services, left: set[int], progress: _Progress) -> float | None:
    """One pass of the queue as the set-up worker makes it (`drain_setup`): the accounts
    due, oldest first, each set up on its own (a failure is its own, retried with backoff).
    Returns the seconds the rate budget says to wait, if it stopped the pass. Ctrl-C stops
    it between two accounts (CancelledError), never inside one's set-up."""
    now = services.clock()
    for account in await services.db.run(setup_due, now, (), SETUP_BATCH):
        key = account_step(account.team_id, account.id, SETUP_STEP)
        if waiting(services, key, now):
            continue
        work = isolated(services, key, provision(services, account), now)
        try:
            done, interrupted = await whole(work, partial(progress.stop, len(left)))
        except OverBudget as exc:
            return exc.wait
        if not isinstance(done, Failed) and done.setup_due_at is None:
            left.discard(account.id)
            progress.at(len(left))
        if interrupted:
            raise asyncio.CancelledError
    return None


async def _wait(services: Services, until: datetime, left: int, progress: _Progress) -> None:
    """Until `until` by the services' clock, showing how long is left."""
    while (seconds := (until - services.clock()).total_seconds()) > 0:
        progress.at(left, waiting_s=seconds)
        await asyncio.sleep(min(seconds, LOOK_S))
