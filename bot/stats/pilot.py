"""`/baton pilot`: start a retention-model pilot on a cohort of accounts, and compare the
cohort with the rest of the book (renewal, expansion, escalations, nudge response).

Starting one puts each cohort account on the pilot's model the way a model is chosen in
the packet: the account's `retention_model`, an ownership trail entry (cause
"pilot <name>", so `/baton history` says why), and the features told of the change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.accounts.changes import account_changed
from bot.accounts.facts import note_ownership_in
from bot.accounts.load import Refusal
from bot.accounts.lookup import accounts_meant, quoted
from bot.outbox.owe import deliver_now
from bot.people.managers import is_admin
from bot.people.permissions import allowed, may_see_stats
from bot.platform.kit import esc
from bot.platform.services import Services
from bot.stats import figures
from flows.permissions import Action, Role
from flows.pilot import (
    START_USAGE,
    Comparison,
    Group,
    ListPilots,
    StartPilot,
    compare,
    group,
    parse_pilot,
    small_group,
    split_facts,
)
from flows.stats import Facts, Measure, compute_stats
from storage.accounts import update_account
from storage.models import Account, Pilot
from storage.pilots import add_pilot, cohorts, pilot_account_ids, pilot_named, piloted, pilots
from storage.portfolio import manages_any
from storage.stats import stats_facts

REFUSED_START = (
    "Only a manager (of the accounts, or BATON_MANAGERS) or a workspace admin can start a pilot."
)
REFUSED_VIEW = (
    "`/baton pilot` is for managers (of an account, or BATON_MANAGERS) and workspace admins."
)
CAUSE_LENGTH = 40  # ownership_events.cause
SHOWN = 8  # accounts named in one answer


@dataclass(frozen=True)
class Started:
    pilot: Pilot
    accounts: list[Account]
    moved: int  # how many were on another model before
    owed: list[int]


# --- the command -----------------------------------------------------------------------------
async def pilot_answer(services: Services, team_id: str, user_id: str, text: str) -> str:
    broad = False
    if text.lower().split()[:1] == ["start"]:
        broad = await _may_start(services, team_id, user_id)
    elif not await may_see_stats(services, team_id, user_id):
        return REFUSED_VIEW
    command = parse_pilot(text)
    if isinstance(command, str):
        raise Refusal(esc(command))
    if isinstance(command, StartPilot):
        return await start_pilot(services, team_id, user_id, command, broad)
    if isinstance(command, ListPilots):
        return await services.db.run(_list, team_id)
    comparison = await comparison_of(services, team_id, command.name)
    return "\n".join(comparison_lines(*comparison))


async def _may_start(services: Services, team_id: str, user_id: str) -> bool:
    """Whether they may start a pilot: True when on any accounts (BATON_MANAGERS, admins),
    False when only on the accounts they manage; refused otherwise."""
    broad = user_id in services.managers
    manager = broad or await services.db.run(manages_any, team_id, user_id)
    roles = {Role.MANAGER} if manager else set()
    if not await allowed(services, Action.START_PILOT, user_id, roles):
        raise Refusal(REFUSED_START)
    return broad or await is_admin(services, user_id)


async def start_pilot(
    services: Services, team_id: str, user_id: str, command: StartPilot, broad: bool
) -> str:
    try:
        started = await services.db.run(
            _start, services, team_id, user_id, command, broad, services.clock(), immediate=True
        )
    except IntegrityError:  # the same name, started at the same moment elsewhere
        raise Refusal(_taken(command.name)) from None
    await deliver_now(services, started.owed)
    pilot, accounts = started.pilot, started.accounts
    names = _names(accounts)
    kept = len(accounts) - started.moved
    already = f"; {kept} already on {pilot.model}" if kept else ""
    lines = [
        f":test_tube: Pilot *{esc(pilot.name)}* started: {len(accounts)} "
        f"account{'s' if len(accounts) != 1 else ''} on model {esc(pilot.model)} "
        f"({names}{already}). `/baton pilot {esc(pilot.name)}` compares them with the rest.",
    ]
    small = small_group("The pilot", len(accounts))
    return "\n".join(lines + ([f":warning: {small}"] if small else []))


def _start(
    session: Session,
    services: Services,
    team_id: str,
    user_id: str,
    command: StartPilot,
    broad: bool,
    now: datetime,
) -> Started:
    """The checks, then the pilot, its cohort and each account's model, in one unit:
    nothing is written unless every account was found exactly once."""
    if pilot_named(session, team_id, command.name) is not None:
        raise Refusal(_taken(command.name))
    accounts = _resolve(session, team_id, command.accounts)
    if not broad:
        foreign = [a for a in accounts if a.manager_user_id != user_id]
        if foreign:
            raise Refusal(
                f"You manage neither {_names(foreign)}: only their manager, a BATON_MANAGERS "
                "member or a workspace admin can put them in a pilot; nothing was started."
            )
    taken = piloted(session, team_id, [a.id for a in accounts])
    if taken:
        (account_id, other), *_ = sorted(taken.items())
        account = next(a for a in accounts if a.id == account_id)
        raise Refusal(
            f"*{esc(account.name)}* is already in the pilot *{esc(other.name)}*; "
            "leave it out, nothing was started."
        )
    model = command.model.value
    pilot = add_pilot(session, team_id, command.name, model, [a.id for a in accounts], user_id, now)
    cause, note = f"pilot {command.name}", None
    if len(cause) > CAUSE_LENGTH:  # the trail's cause column: the whole name goes in the note
        cause, note = cause[: CAUSE_LENGTH - 1] + "…", cause
    moved, owed = 0, []
    for account in accounts:
        before = account.retention_model
        if before == model:
            continue
        moved += 1
        changed = update_account(session, team_id, account.id, retention_model=model)
        note_ownership_in(
            session,
            services,
            team_id,
            account.id,
            cause,
            user_id,
            note,
            now=now,
        )
        owed += account_changed(
            session, services, changed, {"retention_model": (before, model)}, now
        )
    return Started(pilot, accounts, moved, owed)


def _resolve(session: Session, team_id: str, typed: tuple[str, ...]) -> list[Account]:
    """Each account as typed, found exactly once; else one sentence naming the first
    that was not (all the unknown ones together)."""
    found: dict[int, Account] = {}
    unknown: list[str] = []
    for text in typed:
        matches = accounts_meant(session, team_id, text, None)
        if not matches:
            unknown.append(text)
        elif len(matches) > 1:
            raise Refusal(
                f"{quoted(text)} matches several accounts ({_names(matches)}): name it by its "
                "CRM id or #channel; nothing was started."
            )
        else:
            found.setdefault(matches[0].id, matches[0])
    if unknown:
        shown = ", ".join(quoted(t) for t in unknown[:SHOWN])
        more = f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else ""
        raise Refusal(
            f"I found no account matching {shown}{more}: name each by its name, CRM id or "
            f"#channel, separated by commas (`{esc(START_USAGE)}`); nothing was started."
        )
    return list(found.values())


def _taken(name: str) -> str:
    return (
        f"There is already a pilot named “{esc(name)}” (names are the same in any case); "
        "give this one another name."
    )


def _names(accounts: list[Account]) -> str:
    shown = ", ".join(f"*{esc(a.name)}*" for a in accounts[:SHOWN])
    return shown + (f" and {len(accounts) - SHOWN} more" if len(accounts) > SHOWN else "")


def _list(session: Session, team_id: str) -> str:
    found = pilots(session, team_id)
    if not found:
        return f"No pilots yet: start one with `{esc(START_USAGE)}`."
    sizes = cohorts(session, team_id)
    lines = [f":test_tube: *Pilots* ({len(found)}):"]
    for pilot in found:
        n = len(sizes.get(pilot.id or 0, []))
        lines.append(
            f"• *{esc(pilot.name)}*: model {esc(pilot.model)}, {n} account{'s' if n != 1 else ''}"
            f", started {pilot.started_at:%d %b %Y} by <@{esc(pilot.started_by)}>"
        )
    return "\n".join(lines)


# --- the comparison --------------------------------------------------------------------------
def since(pilot: Pilot) -> datetime:
    """The comparison's window starts at the midnight (UTC) of the pilot's first day, so an
    outcome effective that day counts."""
    day = pilot.started_at.astimezone(UTC)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


async def comparison_of(
    services: Services, team_id: str, name: str
) -> tuple[Pilot, Comparison, datetime, datetime]:
    pilot = await services.db.run(pilot_named, team_id, name)
    if pilot is None:
        raise Refusal(f"I found no pilot named {quoted(name)}; `/baton pilot` lists them.")
    end = services.clock()
    start = min(since(pilot), end)
    facts = await services.db.run(stats_facts, team_id, start, end)
    ids = await services.db.run(pilot_account_ids, team_id, pilot.id)
    return pilot, compare_facts(services, pilot, facts, set(ids)), start, end


def compare_facts(services: Services, pilot: Pilot, facts: Facts, ids: set[int]) -> Comparison:
    """The cohort against the rest over the facts' window."""
    settings = services.settings
    cohort, rest = split_facts(facts, ids)
    numbers = [
        group(compute_stats(f, settings.timezone, settings.holidays), len(f.accounts))
        for f in (cohort, rest)
    ]
    return compare(pilot.name, pilot.model, *numbers)


def per_account(measure: Measure, escalations: int) -> str:
    if measure.value is None:
        return "– (n=0)"
    return f"{measure.value:.2f} ({escalations} over n={measure.n})"


ROWS = (
    ("renewal", "Renewal rate"),
    ("expansion", "Expansion"),
    ("escalations_per_account", "Escalations per account"),
    ("nudges_on_time", "Nudges answered on time"),
)


def figure(group: Group, key: str) -> tuple[str, int]:
    """One number of a group as `/baton pilot` and the report write it, and its sample."""
    if key == "renewal":
        return figures.rate(group.renewal), group.renewal.n
    if key == "expansion":
        return figures.expansion(group.expansion), group.expansion.n
    if key == "escalations_per_account":
        measure = group.escalations_per_account
        return per_account(measure, group.escalations), measure.n
    return figures.rate(group.nudges_on_time), group.nudges_on_time.n


def comparison_lines(
    pilot: Pilot, comparison: Comparison, start: datetime, end: datetime
) -> list[str]:
    cohort, rest = comparison.cohort, comparison.rest
    lines = [
        f":test_tube: *Pilot {esc(pilot.name)}* (model {esc(pilot.model)}, started "
        f"{pilot.started_at:%d %b %Y} by <@{esc(pilot.started_by)}>): its {cohort.accounts} "
        f"accounts against the rest of the book ({rest.accounts} accounts), "
        f"{start:%d %b %Y} – {end:%d %b %Y}.",
    ]
    for key, label in ROWS:
        ours, theirs = figure(cohort, key)[0], figure(rest, key)[0]
        lines.append(f"• *{label}:* pilot {esc(ours)} · rest {esc(theirs)}")
    lines += [f":warning: {esc(w)}" for w in comparison.warnings]
    return lines
