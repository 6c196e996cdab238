"""The Monday digest: at 08:00 each manager's local time, their week in one DM.

Owed a week ahead like every other message (so downtime, restarts and replicas neither lose
nor repeat it), and written when it falls due, so it tells the week as it is: by a tick
stage just before delivery (the delivery loop only sends it), or, for one that came due
while delivery was draining, as it is sent.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.outbox.faults import isolated, waiting
from bot.outbox.owe import enqueue_all
from bot.ownership.answers import read_week, week_report
from bot.people.directory import zone_for
from bot.platform.batch import PlanBatch
from bot.platform.kit import clip
from bot.platform.outlook import Outlook
from bot.platform.services import Services
from flows.calendar import local_instant
from storage.accounts import live_managers
from storage.faults import FaultKey
from storage.kinds import MessageKind, SubjectType
from storage.outbox import Claim, OwedMessage, drop_owed, owed_due_of_kind, reword
from storage.portfolio import Scope
from storage.workspaces import workspace_ids

KIND = MessageKind.MANAGER_DIGEST
MANAGERS_SEEN = "digest-managers"  # the managers of every account at the last planning pass
DIGEST_TIME = time(8, 0)
MONDAY = 0


def digest_time(now: datetime, tz: ZoneInfo) -> datetime:
    """This Monday's 08:00 local while it is still Monday there, else next Monday's."""
    local = now.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    if local.date() != monday:
        monday += timedelta(days=7)
    return local_instant(monday, DIGEST_TIME, tz)


async def plan_digests(services: Services, now: datetime, skip_teams: Collection[str] = ()) -> int:
    """Owe every manager their next Monday digest (once: the key is the manager and day)."""
    services.memo[MANAGERS_SEEN] = services.managers
    pairs = set(await services.db.run(live_managers))  # one index step each, no scan
    if services.managers:
        teams = await services.db.run(workspace_ids)
        pairs |= {(team, m) for team in teams for m in services.managers}
    memo: dict[tuple[str, str], datetime] = services.memo.setdefault(KIND, {})
    for gone in set(memo) - pairs:  # no longer anyone's manager: nothing to look at
        del memo[gone]
    pairs = {(team, m) for team, m in pairs if team not in skip_teams}
    owed = 0
    for team_id, manager in sorted(pairs):
        if memo.get((team_id, manager), now) > now:
            continue  # the next digest is already owed: nothing to look up until then
        key = FaultKey(team_id, "digest", manager, "planning")
        if not waiting(services, key, now):
            done = await isolated(services, key, _owe_digest(services, team_id, manager, now), now)
            owed += done if isinstance(done, bool) else 0
    return owed


def next_look(services: Services) -> datetime | None:
    """When `plan_digests` next has a digest to owe: the earliest moment it remembers to
    look again; before its first pass, at once. A manager it has not seen comes with an
    account that is due for planning, which wakes the tick too."""
    memo: dict[tuple[str, str], datetime] | None = services.memo.get(KIND)
    if memo is None:
        return services.clock()
    return min(memo.values(), default=None)


def to_plan(services: Services, outlook: Outlook) -> bool:
    """Whether `plan_digests` has anything to look at: on its first pass, once a digest it
    remembers is due for its next, or when the managers of every account (BATON_MANAGERS
    and their groups) changed since its last pass (a manager of one account not seen
    before is noted by `note_managers` as that account is planned)."""
    memo: dict[tuple[str, str], datetime] | None = services.memo.get(KIND)
    if memo is None or services.memo.get(MANAGERS_SEEN) != services.managers:
        return True
    return any(at <= outlook.now for at in memo.values())


def note_managers(_session: Session, services: Services, batch: PlanBatch) -> None:
    """A planner: the managers of the accounts planned now that the digests do not know yet
    are looked at by this tick's digest planning (every account with a new manager, or in
    a new workspace, is planned)."""
    memo: dict[tuple[str, str], datetime] | None = services.memo.get(KIND)
    if memo is None:
        return  # the first pass reads every manager
    for account in batch.accounts:
        for manager in services.managers_of(account):
            memo.setdefault((account.team_id, manager), batch.now)


async def _owe_digest(services: Services, team_id: str, manager: str, now: datetime) -> bool:
    """Owe the manager's next digest. Once this Monday's is due (the tick that sends it is
    this one), next Monday's is owed with it: the next look is then that digest's own
    tick, not a wake-up of its own in between."""
    tz = await zone_for(services, team_id, manager)
    due = digest_time(now, tz)
    dues = [due]
    if due <= now:
        dues.append(local_instant(due.astimezone(tz).date() + timedelta(days=7), DIGEST_TIME, tz))
    messages = [_digest(team_id, manager, at, tz) for at in dues]
    owed = await services.db.run(enqueue_all, messages)
    services.memo[KIND][(team_id, manager)] = dues[-1]
    return bool(owed)


def _digest(team_id: str, manager: str, due: datetime, tz: ZoneInfo) -> OwedMessage:
    return OwedMessage(
        team_id=team_id,
        dedupe_key=f"digest-{manager}-{due.astimezone(tz).date()}",
        channel=manager,
        text="Your Monday digest",  # written when it is sent (see `compose`)
        due_at=due,
        kind=KIND,
        expires_at=due + timedelta(hours=12),
        local_tz=tz.key,
        subject_type=SubjectType.PERSON,
        subject_id=manager,
    )


async def write_digests(services: Services, now: datetime, skip_teams: Collection[str] = ()) -> int:
    """Write the digests due by now into their outbox rows before delivery claims them, so
    that the delivery loop only sends them (`compose` sees them written); a quiet week's
    digest is dropped here. Returns how many were written."""
    written = 0
    for team_id, message_id, manager in await services.db.run(
        owed_due_of_kind, KIND, now, skip_teams
    ):
        key = FaultKey(team_id, "digest", manager, "writing")
        if not waiting(services, key, now):
            work = services.db.run(_write, services, team_id, message_id, manager, now)
            done = await isolated(services, key, work, now)
            written += done is True
    return written


def _write(
    session: Session, services: Services, team_id: str, message_id: int, manager: str, now: datetime
) -> bool:
    words = week_words(session, services, team_id, manager, now)
    if isinstance(words, str):
        drop_owed(session, team_id, message_id, words)
        return False
    return reword(session, team_id, message_id, *words)


def compose(
    session: Session, services: Services, claim: Claim, now: datetime
) -> Claim | str | None:
    """The digest as it goes: as `write_digests` wrote it this tick (None: send it as it
    is), or written now if it came due after (a quiet week: a reason to skip)."""
    if claim.blocks is not None:
        return None
    words = week_words(session, services, claim.team_id, claim.channel, now)
    if isinstance(words, str):
        return words
    text, blocks = words
    return replace(claim, text=text, blocks=blocks)


def week_words(
    session: Session, services: Services, team_id: str, manager: str, now: datetime
) -> tuple[str, list[dict]] | str:
    """The digest's text and blocks, from the database as it is now (a quiet week: a
    reason to skip it)."""
    everyone = manager in services.managers
    scope = Scope(team_id, everyone=everyone, manager=None if everyone else manager)
    week = read_week(session, services, scope, now)
    extra = [
        s for add in services.hooks.digest_sections if (s := add(session, services, team_id, now))
    ]
    if not (week.changing or week.due or week.overdue or week.at_risk or week.ratings or extra):
        return "a quiet week: nothing to report"
    label = "every account" if everyone else "your team"
    text, blocks = week_report(
        week, f"Your week from {week.first:%a %d %b} — {label}", ratings=True, extra=extra
    )
    return clip(text, 3000), blocks[:50]
