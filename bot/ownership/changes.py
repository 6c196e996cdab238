"""Changing who answers for an account: coverage while someone is away, and reassignment
by a manager or admin. Both are audited and announced."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.accounts.changes import account_changed
from bot.accounts.facts import note_ownership_in
from bot.accounts.load import Refusal
from bot.channels.setup import invite_people
from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.people.directory import remember_user, zone_for
from bot.people.permissions import may_act, may_cover
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.calendar import local_instant
from flows.ownership import ROLE_NAMES
from flows.ownership_args import Cover, EndCover
from flows.permissions import Action
from storage.accounts import update_account
from storage.kinds import MessageKind, SubjectType
from storage.models import Account, Coverage
from storage.outbox import OwedMessage
from storage.ownership import end_coverage, start_coverage
from storage.portfolio import Scope, count_accounts


async def _active_person(services: Services, team_id: str, user_id: str) -> dict:
    """users.info of someone who can own accounts, or a Refusal saying why not."""
    try:
        response = await services.client.users_info(user=user_id)
    except SlackApiError:
        raise Refusal(f"<@{user_id}> is not someone in this workspace.") from None
    user = response["user"]
    if user.get("deleted") or user.get("is_bot"):
        raise Refusal(f"<@{user_id}> is not an active person, so cannot own accounts.")
    await remember_user(services, team_id, user)
    return user


def _personal(
    services: Services, team_id: str, key: str, to: str, text: str, covered: str
) -> OwedMessage:
    """A message about the cover of `covered`, to them or their backup."""
    return OwedMessage(
        team_id=team_id,
        dedupe_key=key,
        channel=to,
        text=text,
        due_at=services.clock(),
        kind=MessageKind.COVERAGE,
        subject_type=SubjectType.PERSON,
        subject_id=covered,
    )


async def cover(services: Services, team_id: str, actor: str, request: Cover | EndCover) -> str:
    if not await may_cover(services, team_id, actor, request.user):
        raise Refusal(
            f"Only <@{request.user}>, a manager of their accounts or a workspace admin can "
            f"arrange cover for <@{request.user}>."
        )
    if isinstance(request, EndCover):
        return await _end_cover(services, team_id, actor, request.user)
    await _active_person(services, team_id, request.user)
    await _active_person(services, team_id, request.backup)
    tz = await zone_for(services, team_id, request.user)
    now = services.clock()
    window = Coverage(
        team_id=team_id,
        user_id=request.user,
        backup_user_id=request.backup,
        starts_at=now,
        ends_at=local_instant(request.until + timedelta(days=1), time(0), tz),
        until=request.until,
        created_by=actor,
        created_at=now,
    )
    replaced, held, owed = await services.db.run(
        _start_cover, services, window, actor, immediate=True
    )
    await deliver_now(services, owed)
    until = f"{request.until:%a %d %b %Y}"
    accounts = f"{held} account{'s' * (held != 1)}"
    earlier = " It replaces the cover already arranged." if replaced else ""
    return (
        f"<@{request.backup}> covers for <@{request.user}> from now until the end of {until} "
        f"({tz.key} time): ownership answers and the nudges for their {accounts} go to "
        f"<@{request.backup}>, marked as coverage.{earlier}"
    )


def _start_cover(
    session: Session, services: Services, window: Coverage, actor: str
) -> tuple[list[Coverage], int, list[int]]:
    """The cover window and the notes it owes the backup (and the person, when someone else
    arranged it), in one unit: (the windows it cut short, accounts held, ids owed)."""
    replaced = start_coverage(session, window)
    team_id, user, backup = window.team_id, window.user_id, window.backup_user_id
    held = count_accounts(session, Scope(team_id, holders=(user,)))
    until = f"{window.until:%a %d %b %Y}"
    accounts = f"{held} account{'s' * (held != 1)}"
    notes = [
        _personal(
            services,
            team_id,
            f"cover-{window.id}-backup",
            backup,
            f":busts_in_silhouette: You are covering for <@{user}> until the end of "
            f"{until}: their {accounts} and every nudge for them come to you, marked as "
            "coverage. `/baton owner @you` lists them.",
            user,
        )
    ]
    if actor != user:
        notes.append(
            _personal(
                services,
                team_id,
                f"cover-{window.id}-person",
                user,
                f"<@{actor}> arranged cover while you are away: <@{backup}> takes "
                f"your {accounts} and nudges until the end of {until}.",
                user,
            )
        )
    return replaced, held, enqueue_all(session, notes)


async def _end_cover(services: Services, team_id: str, actor: str, user_id: str) -> str:
    ended, owed = await services.db.run(
        _stop_cover, services, team_id, user_id, actor, immediate=True
    )
    if not ended:
        return f"<@{user_id}> has no cover arranged."
    await deliver_now(services, owed)
    backups = ", ".join(dict.fromkeys(f"<@{w.backup_user_id}>" for w in ended))
    return f"Cover for <@{user_id}> ended ({backups} no longer covers); nudges go to them again."


def _stop_cover(
    session: Session, services: Services, team_id: str, user_id: str, actor: str
) -> tuple[list[Coverage], list[int]]:
    """The cover ended and each backup told, in one unit."""
    ended = end_coverage(session, team_id, user_id, services.clock(), actor)
    notes = [
        _personal(
            services,
            team_id,
            f"cover-{w.id}-ended",
            w.backup_user_id,
            f"Cover for <@{user_id}> has ended: their nudges go to them again.",
            user_id,
        )
        for w in ended
    ]
    return ended, enqueue_all(session, notes)


def _assigned(
    session: Session,
    services: Services,
    account: Account,
    actor: str,
    role: str,
    user_id: str,
    before: str | None,
    values: dict[str, object],
    text: str,
    now: datetime,
) -> tuple[Account, list[int]]:
    """The new holder, the ownership trail, what the features owe for it and the notes to
    the channel and both people: one unit."""
    account = update_account(session, account.team_id, account.id, **values)
    note_ownership_in(session, services, account.team_id, account.id, "assigned", actor, now=now)
    owed = account_changed(session, services, account, {f"{role}_user_id": (before, user_id)}, now)
    stamp = now.strftime("%Y%m%d%H%M%S")
    targets = dict.fromkeys(filter(None, (account.channel_id, user_id, before)))
    notes = [
        about(services, account, f"assign-{role}-{user_id}-{stamp}-{to}", to, text)
        for to in targets
    ]
    return account, owed + enqueue_all(session, notes)


async def assign(
    services: Services, team_id: str, actor: str, account: Account, role: str, user_id: str
) -> str:
    if not await may_act(services, Action.ASSIGN, account, actor):
        manager = f" Ask <@{account.manager_user_id}>." if account.manager_user_id else ""
        raise Refusal(f"Only a manager or a workspace admin can reassign accounts.{manager}")
    if account.user_of(role) == user_id:
        return f"<@{user_id}> is already the {ROLE_NAMES[role]} of {esc(account.name)}."
    user = await _active_person(services, team_id, user_id)
    email = (user.get("profile") or {}).get("email")
    before = account.user_of(role)
    values: dict[str, object] = {f"{role}_user_id": user_id, "updated_at": services.clock()}
    if email:
        values[f"{role}_email"] = email
    was = f" (was <@{before}>)" if before else ""
    text = (
        f":arrows_counterclockwise: <@{actor}> made <@{user_id}> the {ROLE_NAMES[role]} of "
        f"*{esc(account.name)}*{was}, on {services.today():%d %b %Y}."
    )
    account, owed = await services.db.run(
        _assigned,
        services,
        account,
        actor,
        role,
        user_id,
        before,
        values,
        text,
        services.clock(),
        immediate=True,
    )
    if account.channel_id:
        await invite_people(services, account)
    await deliver_now(services, owed)
    return (
        f"Done: <@{user_id}> is now the {ROLE_NAMES[role]} of {esc(account.name)}{was}. "
        "Their nudges follow."
    )
