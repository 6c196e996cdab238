"""The answers to `/baton owner`, `week`, `renewals`, `pending` and `history`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlmodel import Session

from bot.accounts.commercial import commercial_role
from bot.accounts.facts import facts_of
from bot.accounts.lookup import (
    accounts_meant,
    closest_accounts,
    pick_list,
    quoted,
    which_account,
)
from bot.accounts.ops import ops_user
from bot.accounts.tiers import tiers_of
from bot.ownership.blocks import (
    covered,
    day,
    late_line,
    owner_answer,
    person_answer,
    role_holders,
    titled,
)
from bot.ownership.standing import (
    Standing,
    late_milestone,
    not_closed_item,
    packet_late,
    standings,
    windows_now,
)
from bot.platform.kit import Block, esc, money
from bot.platform.services import Services
from flows.dates import add_months
from flows.ownership import (
    CLOSE_MONTH,
    CO_OWN_MONTH,
    HANDOFF_DAYS,
    ROLE_NAMES,
    Ownership,
    changes,
    ownership,
)
from storage.models import Account, AccountStatus, Coverage
from storage.ownership import covered_by
from storage.portfolio import (
    Scope,
    count_renewing_between,
    handover_candidates,
    manages_any,
    milestones_between,
    not_closed,
    overdue_milestones,
    pending_packets,
    ratings_since,
    red_accounts,
    renewals_into,
    renewing_between,
    scoped_accounts,
)

Answer = tuple[str, list[Block]]
PERSON_LIMIT = 500  # accounts read for one person's answer; more are counted, not listed


def _plain(text: str) -> Answer:
    return text, []


async def account_answer(
    services: Services, team_id: str, text: str, channel_id: str | None, usage: str
) -> Answer:
    now = services.clock()

    def read(session: Session) -> Answer:
        # One unit: the lookup and, for the one account it finds, the account's standing.
        accounts = accounts_meant(session, team_id, text, channel_id)
        if len(accounts) == 1:
            return _owner_of(session, services, accounts[0], now)
        close = [] if accounts or not text.strip() else closest_accounts(session, team_id, text)
        if close:
            return _plain(
                f"I found no account matching {quoted(text)}. The closest names:\n"
                f"{pick_list(close)}"
            )
        return _plain(which_account(text, accounts, usage))

    return await services.db.run(read)


def _owner_of(session: Session, services: Services, account: Account, now: datetime) -> Answer:
    standing = standings(session, services, [account], now)[0]
    windows = windows_now(session, account.team_id, now)
    live = account.status != AccountStatus.CHURNED  # a churned account is in no tier
    tiers = tiers_of(session, services, [account], now) if live else {}
    tier = tiers.get((account.team_id, account.id))
    return owner_answer(standing, services.today(now), windows, tier)


async def person_owner_answer(services: Services, team_id: str, user_id: str) -> Answer:
    now = services.clock()

    def read(session: Session) -> tuple[list[Standing], list[Coverage], dict[str, Coverage]]:
        covering = covered_by(session, team_id, user_id, now)
        people = (user_id, *(c.user_id for c in covering))
        accounts = scoped_accounts(session, Scope(team_id, holders=people), limit=PERSON_LIMIT)
        return (
            standings(session, services, accounts, now),
            covering,
            windows_now(session, team_id, now),
        )

    found, covering, windows = await services.db.run(read)
    return person_answer(user_id, found, covering, windows, services.today(now))


@dataclass(frozen=True)
class Reach:
    scope: Scope
    label: str  # whose accounts, in words
    manager: bool


async def reach_of(services: Services, team_id: str, user_id: str) -> Reach:
    """Whose accounts a person's views cover: everyone's for a workspace manager, the
    team's for an account manager, their own otherwise."""
    if user_id in services.managers:
        return Reach(Scope(team_id, everyone=True), "every account", True)
    if await services.db.run(manages_any, team_id, user_id):
        return Reach(Scope(team_id, manager=user_id, holders=(user_id,)), "your team", True)
    return Reach(Scope(team_id, holders=(user_id,)), "your accounts", False)


def _account_link(account: Account) -> str:
    return f"*{esc(account.name)}*"


@dataclass(frozen=True)
class Week:
    first: date
    last: date
    changing: list[str]
    due: list[str]
    overdue: list[str]
    at_risk: list[str]
    ratings: list[str]


def read_week(session: Session, services: Services, scope: Scope, now: datetime) -> Week:
    """Everything the week view and the Monday digest say (one unit of work: `services.db.run`)."""
    first = services.today(now)
    last = first + timedelta(days=6)
    windows = windows_now(session, scope.team_id, now)
    due = [
        f"• {m.due_date:%a %d %b} — {_account_link(a)}: {m.title} — "
        f"{role_holders(a, m.owners, windows, ops_user(services, a))}"
        for m, a in milestones_between(session, scope, first, last)
    ]
    overdue = [
        f"• {_account_link(a)}: "
        + late_line(late_milestone(m), a, first, windows, ops_user(services, a))
        for m, a in overdue_milestones(session, scope, first, now)
    ]
    overdue += [
        f"• {_account_link(a)}: " + late_line(not_closed_item(m, c), a, first, windows)
        for m, c, a in not_closed(session, scope)
    ]
    overdue += [
        f"• {_account_link(account)}: handoff packet, "
        f"{(first - services.today(account.closed_at)).days} days after close — "
        f"{covered(account.ae_user_id, windows)}"
        for account, _packet in pending_packets(session, scope)
        if packet_late(services, account, now)
    ]
    at_risk = [
        f"• {_account_link(a)} — red since {f.flagged_at:%d %b}: "
        f"{esc((f.risks or '').strip()[:120])} "
        f"· renews {a.renewal_date:%d %b %Y}"
        for a, f in red_accounts(session, scope)
    ]
    ratings = [
        f"• {_account_link(a)}: {r.rating}/5 from <@{r.rated_by}>"
        + (f" — missing: {esc(', '.join(r.missing))}" if r.missing else "")
        for r, a in ratings_since(session, scope, now - timedelta(days=7))
    ]
    changing = _changing_hands(session, services, scope, first, last, windows)
    return Week(first, last, changing, due, overdue, at_risk, ratings)


def _changing_hands(
    session: Session,
    services: Services,
    scope: Scope,
    first: date,
    last: date,
    windows: dict[str, Coverage],
) -> list[str]:
    slack = timedelta(days=3)  # month arithmetic; the exact test follows
    candidates = handover_candidates(
        session,
        scope,
        [
            (
                "closed_at",
                _start_of(first - timedelta(days=HANDOFF_DAYS + 2)),
                _start_of(last + timedelta(days=2)),
            ),
            (
                "renewal_date",
                add_months(first, 12 - CO_OWN_MONTH) - slack,
                add_months(last, 12 - CO_OWN_MONTH) + slack,
            ),
            (
                "renewal_date",
                add_months(first, 12 - CLOSE_MONTH) - slack,
                add_months(last, 12 - CLOSE_MONTH) + slack,
            ),
        ],
    )
    renewals = renewals_into(session, candidates)
    found = []
    for account in candidates:
        facts = facts_of(services, account, renewals.get(account.id))
        for when, owns in changes(facts, first, last):
            lead = next((p for p in owns.parts if p.primary), None)
            who = (
                f"{covered(account.user_of(lead.role), windows)} ({ROLE_NAMES[lead.role]}) leads"
                if lead
                else "no owner"
            )
            step = _handover_step(owns, ownership(facts, when - timedelta(days=1)))
            line = f"• {when:%a %d %b} — {_account_link(account)} {step}: {who}"
            found.append((when, account.name.lower(), account.id, line))
    return [line for *_, line in sorted(found)]


def _handover_step(now: Ownership, before: Ownership) -> str:
    """How a change of hands reads: a new phase is entered; a step within the same phase
    (the handoff window's days 1–7 → 8–30) moves on inside it."""
    if now.phase == before.phase:
        return f"moves on within the {now.phase.label.lower()} ({now.stage})"
    return f"enters {now.phase.label}"


def _start_of(day_: date) -> datetime:
    return datetime.combine(day_, time(0), tzinfo=UTC)


async def week_answer(services: Services, team_id: str, user_id: str) -> Answer:
    reach = await reach_of(services, team_id, user_id)
    week = await services.db.run(read_week, services, reach.scope, services.clock())
    return week_report(week, f"The week of {week.first:%d %b} — {reach.label}", ratings=False)


def week_report(
    week: Week,
    title: str,
    *,
    ratings: bool,
    extra: Sequence[tuple[str, list[str]]] = (),
) -> Answer:
    """The week's sections, then what other features add (`extra`: heading, lines)."""
    sections = [
        ("Changing hands", week.changing, len(week.changing)),
        (f"Milestones due by {week.last:%a %d %b}", week.due, len(week.due)),
        ("Overdue", week.overdue, len(week.overdue)),
        ("At risk (red month-5 flag)", week.at_risk, len(week.at_risk)),
    ]
    if ratings:
        sections.append(("Packet ratings this past week", week.ratings, len(week.ratings)))
    sections += [(heading, lines, len(lines)) for heading, lines in extra]
    footer = f"Ask `{esc('/baton owner <account>')}` for any account's detail."
    return titled(title, sections, footer)


async def renewals_answer(services: Services, team_id: str, user_id: str, days: int) -> Answer:
    reach = await reach_of(services, team_id, user_id)
    first = services.today()
    last = first + timedelta(days=days)
    now = services.clock()

    def read(session: Session) -> tuple[list[Standing], int, dict[str, Coverage]]:
        accounts = renewing_between(session, reach.scope, first, last)
        total = count_renewing_between(session, reach.scope, first, last)
        return (
            standings(session, services, accounts, now),
            total,
            windows_now(session, team_id, now),
        )

    found, total, windows = await services.db.run(read)
    lines = []
    for standing in found:
        account = standing.account
        role = commercial_role(services, account)
        flag = f" · health {standing.flag.health}" if standing.flag else ""
        late = f" · :warning: {len(standing.overdue)} overdue" if standing.overdue else ""
        lines.append(
            f"• {account.renewal_date:%a %d %b %Y} — {_account_link(account)} · {money(account)}"
            f" · {ROLE_NAMES[role]} {covered(account.user_of(role), windows)}{flag}{late}"
        )
    return titled(
        f"Renewals in the next {days} days — {reach.label}",
        [(f"{total} renewal{'s' * (total != 1)} by {day(last)}", lines, total)],
        "Ask `/baton renewals 30` for a shorter window.",
    )


async def pending_answer(services: Services, team_id: str, user_id: str) -> Answer:
    reach = await reach_of(services, team_id, user_id)
    today_ = services.today()
    now = services.clock()

    def read(session: Session) -> tuple[list, dict[str, Coverage]]:
        return pending_packets(session, reach.scope), windows_now(session, team_id, now)

    rows, windows = await services.db.run(read)
    lines = []
    for account, packet in rows:
        closed = services.today(account.closed_at)
        missing = []
        if packet is None or packet.ae_part_at is None:
            missing.append(f"AE part ({covered(account.ae_user_id, windows)})")
        if services.settings.baton_marketing_required and (
            packet is None or packet.marketing_part_at is None
        ):
            missing.append("marketing part")
        lines.append(
            f"• {_account_link(account)} — closed {closed:%d %b} ({(today_ - closed).days} days)"
            f" · missing: {', '.join(missing) or 'answers'}"
        )
    return titled(
        f"Handoff packets not complete — {reach.label}",
        [(f"{len(rows)} waiting", lines, len(rows))],
        "A deal is not handed off until its packet is complete.",
    )
