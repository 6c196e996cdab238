"""`/baton history <account> [on <date>]`: who owned it when, from the audit trail, the
renewal records and the coverage windows, so a post-mortem can ask about any past day."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from sqlmodel import Session

from bot.accounts.facts import facts_of
from bot.ownership.blocks import day, mention, titled
from bot.platform.kit import Block, esc
from bot.platform.services import Services
from flows.ownership import ROLE_NAMES, Facts, Ownership, ownership
from flows.retention import RetentionModel
from storage.models import Account, Coverage, OwnershipEvent, RenewalOutcome
from storage.ownership import coverage_history, ownership_events
from storage.renewals import account_outcomes

HISTORY_LINES = 40


@dataclass(frozen=True)
class Record:
    account: Account
    events: list[OwnershipEvent]
    outcomes: list[RenewalOutcome]
    windows: list[Coverage]


def read_record(session: Session, account: Account) -> Record:
    team = account.team_id
    events = ownership_events(session, team, account.id)
    people = {u for e in events for u in (e.ae_user_id, e.csm_user_id, e.am_user_id) if u}
    people |= {u for u in (account.ae_user_id, account.csm_user_id, account.am_user_id) if u}
    return Record(
        account,
        events,
        account_outcomes(session, team, account.id),
        coverage_history(session, team, people),
    )


class Timeline:
    """The account as it stood on any past day."""

    def __init__(self, services: Services, record: Record) -> None:
        self.services = services
        self.record = record
        self.base = facts_of(services, record.account, None)

    def holders_on(self, d: date) -> OwnershipEvent | None:
        held = [e for e in self.record.events if self.services.today(e.at) <= d]
        return held[-1] if held else (self.record.events[0] if self.record.events else None)

    def facts_on(self, d: date) -> Facts:
        account = self.record.account
        renewed = [o for o in self.record.outcomes if o.outcome == "renewed"]
        pending = [o.renewal_date for o in renewed if self.services.today(o.recorded_at) > d]
        before = [o for o in renewed if self.services.today(o.recorded_at) <= d]
        last = before[-1] if before else None
        holders = self.holders_on(d)
        completed = account.packet_completed_at
        return replace(
            self.base,
            renewal_date=min(pending) if pending else account.renewal_date,
            model=RetentionModel(holders.retention_model) if holders else self.base.model,
            commercial=holders.commercial if holders else self.base.commercial,
            packet_complete=completed is not None and self.services.today(completed) <= d,
            churned_on=self.base.churned_on
            if self.base.churned_on and self.base.churned_on <= d
            else None,
            renewed_on=self.services.today(last.recorded_at) if last else None,
            hand_back_held=bool(
                last and last.handback_held_at and self.services.today(last.handback_held_at) <= d
            ),
        )

    def on(self, d: date) -> Ownership:
        return ownership(self.facts_on(d), d)

    def windows_on(self, d: date) -> list[Coverage]:
        return [
            w
            for w in self.record.windows
            if self.services.today(w.starts_at) <= d < self.services.today(w.ends_at)
        ]


def _holder_text(event: OwnershipEvent, role: str) -> str:
    return mention(getattr(event, f"{role}_user_id"))


def _event_line(before: OwnershipEvent | None, event: OwnershipEvent) -> str:
    by = f" by <@{event.actor}>" if event.actor else ""
    cause = f"{event.cause}{by}" + (f" ({esc(event.note)})" if event.note else "")
    if before is None:
        people = ", ".join(
            f"{ROLE_NAMES[r]} {_holder_text(event, r)}"
            for r in ("ae", "csm", "am")
            if getattr(event, f"{r}_user_id")
        )
        return f"{cause}: {people or 'nobody found in Slack yet'}; model {event.retention_model}, commercial {ROLE_NAMES[event.commercial]}"
    changes = []
    for role in ("ae", "csm", "am"):
        old, new = getattr(before, f"{role}_user_id"), getattr(event, f"{role}_user_id")
        if old != new:
            changes.append(f"{ROLE_NAMES[role]} {mention(old)} → {mention(new)}")
    if before.retention_model != event.retention_model:
        changes.append(f"model {before.retention_model} → {event.retention_model}")
    if before.commercial != event.commercial:
        changes.append(
            f"commercial {ROLE_NAMES[before.commercial]} → {ROLE_NAMES[event.commercial]}"
        )
    return f"{cause}: {', '.join(changes)}"


def timeline_lines(services: Services, record: Record, until: date) -> list[str]:
    line = Timeline(services, record)
    entries: list[tuple[date, int, str]] = []
    before = None
    for event in record.events:
        entries.append((services.today(event.at), 0, _event_line(before, event)))
        before = event
    start = line.base.closed_on
    previous = None
    d = start
    while d <= until:
        owns = line.on(d)
        if previous is None or owns.handover != previous:
            lead = next((p for p in owns.parts if p.primary), None)
            holder = line.holders_on(d)
            who = (
                f"{ROLE_NAMES[lead.role]} {_holder_text(holder, lead.role)} leads"
                if lead and holder
                else "no owner"
            )
            entries.append((d, 1, f"{owns.phase.label} ({owns.stage}): {who}"))
            previous = owns.handover
        d = date.fromordinal(d.toordinal() + 1)
    for w in record.windows:
        ended = f", ended early by <@{w.ended_by}>" if w.ended_early_at else ""
        entries.append(
            (
                services.today(w.starts_at),
                2,
                f"coverage: <@{w.backup_user_id}> covers for <@{w.user_id}> until {w.until:%d %b %Y}{ended}",
            )
        )
    for o in record.outcomes:
        what = (
            f"renewed (next renewal {o.new_renewal_date:%d %b %Y})"
            if o.outcome == "renewed"
            else f"churned ({esc(o.reason)})"
        )
        entries.append(
            (services.today(o.recorded_at), 3, f"{what}, recorded by <@{o.recorded_by}>")
        )
    return [
        f"• {d:%d %b %Y} — {text}"
        for d, _order, text in sorted(entries, key=lambda e: (e[0], e[1]))
    ]


def on_day_lines(services: Services, record: Record, d: date) -> list[str]:
    line = Timeline(services, record)
    owns = line.on(d)
    holder = line.holders_on(d)
    lines = [f"*Phase:* {owns.phase.label} — {owns.stage}", f"*Why:* {owns.why}"]
    windows = {w.user_id: w for w in line.windows_on(d)}
    for part in owns.parts:
        user = getattr(holder, f"{part.role}_user_id") if holder else None
        cover = windows.get(user) if user else None
        away = f" — away; <@{cover.backup_user_id}> covered" if cover else ""
        lines.append(
            f"• {mention(user)} — {ROLE_NAMES[part.role]} · *{', '.join(part.duties)}*: {part.what}{away}"
        )
    return lines


async def history_answer(
    services: Services, account: Account, on: date | None
) -> tuple[str, list[Block]]:
    record = await services.db.run(read_record, account)
    current = services.today()
    if on is not None:
        closed = services.today(account.closed_at)
        if on < closed:
            return (
                f"{esc(account.name)} closed on {closed:%d %b %Y}; nobody owned it on {day(on)}.",
                [],
            )
        lines = on_day_lines(services, record, on)
        return titled(f"{account.name} on {day(on)}", [("Who owned it", lines, len(lines))], "")
    lines = timeline_lines(services, record, current)
    shown = lines[-HISTORY_LINES:]
    earlier = len(lines) - len(shown)
    if earlier:
        shown.insert(0, f"_{earlier} earlier entries not shown._")
    return titled(
        f"{account.name}: who owned it when",
        [("Timeline", shown, len(shown))],
        f"Ask `{esc('/baton history <account> on YYYY-MM-DD')}` for one day.",
        limit=HISTORY_LINES + 1,
    )
