"""Check-ins: the CSM logs them, the AE sees the first four, a mismatch is the AE's to answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.accounts.load import Refusal, load_account
from bot.checkins.blocks import (
    CHECKIN_VIEW,
    cc_text,
    checkin_blocks,
    checkin_modal,
    clarify_blocks,
    clarify_modal,
    mismatch_escalation_text,
    rating_alert_text,
    rating_modal,
    read_checkin,
)
from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.people.directory import zone_of
from bot.people.escalation import escalation_keys, escalation_messages, manager_zones, zone
from bot.people.permissions import allowed, may_act
from bot.platform.kit import esc, metadata, submitted, who
from bot.platform.services import Services
from flows.bounds import bounded_day, record_id, too_long
from flows.checkins import TEXT_MAX, ae_is_copied, most_missing, problems, rating_alert
from flows.gate import escalation_time
from flows.permissions import Action, Role
from storage.accounts import set_once
from storage.checkins import (
    EDITABLE,
    clarify,
    edit_checkin,
    get_checkin,
    latest_ratings,
    record_checkin,
    save_rating,
    set_posted,
)
from storage.kinds import MessageKind, Subject, SubjectType
from storage.models import Account, Checkin
from storage.outbox import OwedMessage, cancel_keys, enqueue, retime_all, reword, sent_message
from storage.packets import get_packet
from storage.people import get_person

RATING_WINDOW = 10
ASK_TEXT = "Please clarify an expectation mismatch."


@dataclass(frozen=True)
class CheckinSubmission:
    account: Account
    values: dict[str, Any]
    checkin_id: int | None
    user_id: str
    key: str  # one submission, however often Slack delivers it


async def _may_log(services: Services, account: Account, user_id: str) -> bool:
    return await may_act(services, Action.LOG_CHECKIN, account, user_id, ("csm",))


async def _may_edit(services: Services, account: Account, checkin: Checkin, user_id: str) -> bool:
    """Whoever logged it (their own words), or a manager."""
    roles = {Role.CSM} if user_id == checkin.logged_by else set()
    if services.is_manager(user_id, account.manager_user_id):
        roles.add(Role.MANAGER)
    return await allowed(services, Action.EDIT_CHECKIN, user_id, roles)


async def _today(services: Services, account: Account, user_id: str) -> date:
    return services.clock().astimezone(await zone(services, account, user_id)).date()


async def open_checkin(
    services: Services,
    team_id: str,
    account_id: Any,
    user_id: str,
    trigger_id: str,
    checkin_id: int | None = None,
) -> None:
    account = await load_account(services, team_id, account_id)
    values: dict[str, Any] = {}
    if checkin_id is not None:
        checkin = await services.db.run(get_checkin, team_id, checkin_id)
        if checkin is None:
            raise Refusal("That check-in no longer exists.")
        if not await _may_edit(services, account, checkin, user_id):
            raise Refusal(
                f"Only {who(checkin.logged_by)}, who logged it, or a manager can edit "
                f"check-in #{checkin.number}."
            )
        values = {key: getattr(checkin, key) for key in EDITABLE}
    elif not await _may_log(services, account, user_id):
        raise Refusal(
            f"Check-ins on {esc(account.name)} are logged by its CSM "
            f"({who(account.csm_user_id, account.csm_email)}), whoever covers for them, or a "
            "manager."
        )
    packet = await services.db.run(get_packet, team_id, account.id)
    metric = (packet.answers.get("success_metric") if packet else None) or None
    view = checkin_modal(
        account, metric, values, await _today(services, account, user_id), checkin_id
    )
    try:
        await services.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as exc:
        if exc.response.get("error") in ("expired_trigger_id", "exchanged_trigger_id"):
            raise Refusal("Slack took too long to open the form. Please try again.") from None
        raise


async def open_checkin_edit(
    services: Services, team_id: str, checkin_id: Any, user_id: str, trigger_id: str
) -> None:
    checkin, account = await _checkin_and_account(services, team_id, checkin_id)
    await open_checkin(services, team_id, account.id, user_id, trigger_id, checkin.id)


async def check_checkin(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> CheckinSubmission | dict[str, str]:
    meta = metadata(view)
    try:
        account = await load_account(services, team_id, meta.get("account_id"))
    except Refusal as refusal:
        return {"summary": refusal.plain()}
    checkin_id = None
    if meta.get("checkin_id") is None and not await _may_log(services, account, user_id):
        return {"summary": f"Check-ins on {account.name} are logged by its CSM or a manager."}
    if meta.get("checkin_id") is not None:
        existing = await _get_checkin(services, team_id, meta["checkin_id"])
        if existing is None or existing.account_id != account.id:
            return {"summary": "That check-in no longer exists."}
        if not await _may_edit(services, account, existing, user_id):
            return {"summary": "Only whoever logged this check-in, or a manager, can edit it."}
        checkin_id = existing.id
    values = read_checkin(view.get("state", {}).get("values", {}))
    errors = problems(values, await _today(services, account, user_id))
    if errors:
        return errors
    values["checkin_date"] = bounded_day(values["checkin_date"])
    key = str(view.get("root_view_id") or view.get("id"))
    return CheckinSubmission(account, values, checkin_id, user_id, key)


@dataclass(frozen=True)
class _Zones:
    """Where the AE and the managers are, which times a mismatch's escalation."""

    ae: str
    managers: dict[str, str]


@dataclass(frozen=True)
class SavedCheckin:
    """A check-in saved, with every message it owes, in one unit (see `save`)."""

    checkin: Checkin
    new: bool
    owed: list[int]  # the ids newly owed, in the order they were owed
    post: int | None = None  # the channel post's id, when newly owed
    linked: tuple[tuple[int, str], ...] = ()  # (id, "cc" | "ask"): messages linking the post
    zones: _Zones | None = None  # what the escalation's time went by


async def save(services: Services, submission: CheckinSubmission) -> SavedCheckin:
    """Store it before the modal closes, and in the same unit everything it owes: the post,
    the AE's copy (1–4), the clarify request, the manager's escalation, first value. Slack
    is called only after the commit (`announce`), so a crash after the ack loses nothing."""
    return await services.db.run(_record, services, submission, services.clock(), immediate=True)


def _record(
    session: Session,
    services: Services,
    submission: CheckinSubmission,
    now: datetime,
) -> SavedCheckin:
    account = submission.account
    if submission.checkin_id is not None:
        checkin = edit_checkin(
            session,
            account.team_id,
            submission.checkin_id,
            submission.values,
            submission.user_id,
            now,
        )
        new = False
    else:
        checkin, new = record_checkin(
            session,
            account.team_id,
            account.id,
            f"{CHECKIN_VIEW}:{submission.key}",
            submission.values,
            submission.user_id,
            now,
        )
    messages: list[tuple[OwedMessage, str]] = []
    if new:
        text = f"Check-in #{checkin.number} for {esc(account.name)}"
        blocks = checkin_blocks(account, checkin)
        messages.append(
            (
                _about(
                    services,
                    account,
                    _post_key(checkin),
                    _channel(account),
                    text,
                    now,
                    blocks=blocks,
                    subject=Subject.checkin(checkin.id),
                ),
                "post",
            )
        )
    unanswered = checkin.mismatch and checkin.clarified_at is None
    zones = None
    if unanswered and account.ae_user_id:
        # The zones Baton knows (asking Slack waits for `announce`, after the commit).
        zones = _Zones(
            _known_zone(session, services, account, account.ae_user_id),
            {m: _known_zone(session, services, account, m) for m in services.managers_of(account)},
        )
        messages += [(m, "escalation") for m in _escalation(services, account, checkin, zones)]
    # The post's permalink is not known yet: the channel's link, until `announce` knows it.
    link = _channel_link(account)
    if new and _ae_copied(services, account, checkin) and account.ae_user_id:
        text = cc_text(account, checkin, link)
        messages.append(
            (
                _about(
                    services,
                    account,
                    f"checkin-cc-{checkin.id}",
                    account.ae_user_id,
                    text,
                    now,
                    subject=Subject.checkin(checkin.id),
                ),
                "cc",
            )
        )
    if unanswered and account.ae_user_id:
        messages.append((_ask(services, account, checkin, link, now), "ask"))
    if checkin.first_value and set_once(
        session, account.team_id, account.id, "first_value_at", now
    ):
        days = (now - account.closed_at).days
        text = (
            f":tada: *{esc(account.name)}* reached first value {days} days "
            f"after close (time-to-first-value recorded)."
        )
        messages.append(
            (_about(services, account, "first-value", _channel(account), text, now), "first-value")
        )
    owed = [(enqueue(session, m), role) for m, role in messages]
    ids = [i for i, _ in owed if i is not None]
    post = next((i for i, role in owed if role == "post" and i is not None), None)
    linked = tuple((i, role) for i, role in owed if role in ("cc", "ask") and i is not None)
    return SavedCheckin(checkin, new, ids, post, linked, zones)


def _ae_copied(services: Services, account: Account, checkin: Checkin) -> bool:
    """The AE sees the CSM's first four check-ins after the close: of an account imported
    later, the weeks that went by before count as check-ins had."""
    closed_on, known_on = services.today(account.closed_at), services.today(account.created_at)
    return ae_is_copied(checkin.number, closed_on, known_on)


def _known_zone(session: Session, services: Services, account: Account, user_id: str) -> str:
    return zone_of(get_person(session, account.team_id, user_id), services.settings.timezone).key


def _escalation(
    services: Services, account: Account, checkin: Checkin, zones: _Zones
) -> list[OwedMessage]:
    after = escalation_time(checkin.created_at, ZoneInfo(zones.ae), services.settings.holidays)
    return escalation_messages(
        services,
        account,
        f"mismatch-escalation-{checkin.id}",
        mismatch_escalation_text(account, checkin),
        after,
        MessageKind.MISMATCH_ESCALATION,
        {m: ZoneInfo(key) for m, key in zones.managers.items()},
        Subject.checkin(checkin.id),
    )


async def _retime_escalation(
    services: Services, account: Account, checkin: Checkin, zones: _Zones
) -> None:
    """Once Slack may be asked: if a zone the unit went by was stale or unknown, move the
    still-owed escalation to the right local morning (a crash first leaves the guess)."""
    fresh = _Zones(
        (await zone(services, account, account.ae_user_id or "")).key,
        {m: tz.key for m, tz in (await manager_zones(services, account)).items()},
    )
    if fresh != zones:
        messages = _escalation(services, account, checkin, fresh)
        await services.db.run(retime_all, messages, immediate=True)


def _about(
    services: Services,
    account: Account,
    key: str,
    channel: str,
    text: str,
    now: datetime,
    blocks: list[dict] | None = None,
    subject: Subject | None = None,
) -> OwedMessage:
    return about(services, account, key, channel, text, due_at=now, blocks=blocks, subject=subject)


def _ask(
    services: Services, account: Account, checkin: Checkin, link: str, now: datetime
) -> OwedMessage:
    return about(
        services,
        account,
        f"mismatch-ask-{checkin.id}",
        account.ae_user_id or "",
        ASK_TEXT,
        due_at=now,
        blocks=clarify_blocks(account, checkin, link),
        subject=Subject.checkin(checkin.id),
    )


def _channel(account: Account) -> str:
    return account.channel_id or ""


async def announce(services: Services, submission: CheckinSubmission, saved: SavedCheckin) -> None:
    """After the commit: send the post, link the AE's copy and clarify request to it, send
    them. Nothing here waits on the post being confirmed: a post Slack defers (rate limit)
    or that is still being reconciled must not cost the AE their copy or the manager their
    escalation (both already owed)."""
    account, checkin = submission.account, saved.checkin
    rest = [i for i in saved.owed if i != saved.post]
    if saved.post is not None:
        await deliver_now(services, [saved.post])
    elif not saved.new:
        await _update_post(services, account, checkin)
    if saved.zones is not None:
        await _retime_escalation(services, account, checkin, saved.zones)
    if saved.linked:
        link = await _link(services, account, checkin)
        if link != _channel_link(account):
            await services.db.run(_relink, services, account, checkin, saved.linked, link)
    await deliver_now(services, rest)


def _relink(
    session: Session,
    services: Services,
    account: Account,
    checkin: Checkin,
    linked: tuple[tuple[int, str], ...],
    link: str,
) -> None:
    """Point the still-unsent copy and clarify request at the post itself."""
    for message_id, role in linked:
        if role == "cc":
            reword(session, account.team_id, message_id, cc_text(account, checkin, link), None)
        else:
            blocks = clarify_blocks(account, checkin, link)
            reword(session, account.team_id, message_id, ASK_TEXT, blocks)


def _post_key(checkin: Checkin) -> str:
    return f"checkin-{checkin.id}"


async def posted_at(
    services: Services, account: Account, checkin: Checkin
) -> tuple[str, str] | None:
    """Where the check-in's post is in Slack, once Slack has it (remembered on the row)."""
    if checkin.channel_id and checkin.message_ts:
        return checkin.channel_id, checkin.message_ts
    posted = await services.db.run(
        sent_message,
        account.team_id,
        f"{_post_key(checkin)}:{account.id}",
    )
    if posted is not None:
        await services.db.run(set_posted, account.team_id, checkin.id, *posted)
    return posted


def _channel_link(account: Account) -> str:
    return f"https://slack.com/app_redirect?channel={account.channel_id}"


async def _link(services: Services, account: Account, checkin: Checkin) -> str:
    """A permalink to the post, or to the channel while the post is not confirmed yet."""
    posted = await posted_at(services, account, checkin)
    if posted is None:
        return _channel_link(account)
    response = await services.client.chat_getPermalink(channel=posted[0], message_ts=posted[1])
    return response["permalink"]


async def _update_post(services: Services, account: Account, checkin: Checkin) -> None:
    posted = await posted_at(services, account, checkin)
    if posted is not None:
        await services.client.chat_update(
            channel=posted[0],
            ts=posted[1],
            text=f"Check-in #{checkin.number} for {esc(account.name)}",
            blocks=checkin_blocks(account, checkin),
        )


async def open_clarify(
    services: Services, team_id: str, checkin_id: Any, user_id: str, trigger_id: str
) -> None:
    checkin, account = await _checkin_and_account(services, team_id, checkin_id)
    if not await may_act(services, Action.CLARIFY, account, user_id, ("ae",)):
        raise Refusal(
            f"The AE on {esc(account.name)} ({who(account.ae_user_id, account.ae_email)}) "
            f"answers this mismatch."
        )
    if checkin.clarified_at is not None:
        raise Refusal(f"{who(checkin.clarified_by)} already clarified this in the thread.")
    await services.client.views_open(trigger_id=trigger_id, view=clarify_modal(account, checkin))


async def _checkin_and_account(
    services: Services, team_id: str, checkin_id: Any
) -> tuple[Checkin, Account]:
    checkin = await _get_checkin(services, team_id, checkin_id)
    if checkin is None:
        raise Refusal("That check-in no longer exists.")
    return checkin, await load_account(services, team_id, checkin.account_id)


async def _get_checkin(services: Services, team_id: str, checkin_id: Any) -> Checkin | None:
    """The check-in a button or modal points at; None for an id that can't be one."""
    key = record_id(checkin_id)
    if key is None:
        return None
    return await services.db.run(get_checkin, team_id, key)


def clarify_problems(view: dict[str, Any]) -> dict[str, str]:
    text = (submitted(view, "clarification") or "").strip()
    if not text:
        return {"clarification": "Write what was agreed, so the CSM can answer the customer."}
    return too_long({"clarification": text}, TEXT_MAX)


async def submit_clarify(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> None:
    text = (submitted(view, "clarification") or "").strip()
    try:
        checkin, account = await _checkin_and_account(
            services, team_id, metadata(view).get("checkin_id")
        )
    except Refusal:
        return  # the modal's check-in is gone (or the modal was not Baton's)
    if not await may_act(services, Action.CLARIFY, account, user_id, ("ae",)):
        return  # no longer theirs to answer (reassigned since the form opened)
    posted = await posted_at(services, account, checkin)
    reply = about(
        services,
        account,
        f"clarified-{checkin.id}",
        posted[0] if posted else account.channel_id or "",
        f"{who(user_id)} clarifies: {esc(text)}",
        thread_ts=posted[1] if posted else None,
        subject=Subject.checkin(checkin.id),
    )
    keys = escalation_keys(services, account, f"mismatch-escalation-{checkin.id}")
    owed = await services.db.run(
        _clarify, team_id, checkin.id, user_id, text, services.clock(), keys, reply
    )
    if owed is None:
        return  # already answered (a double submission): nothing more to say
    await deliver_now(services, owed)


def _clarify(
    session: Session,
    team_id: str,
    checkin_id: int,
    user_id: str,
    text: str,
    now: datetime,
    escalations: list[str],
    reply: OwedMessage,
) -> list[int] | None:
    """The answer, the escalation it makes moot cancelled, the thread reply owed: one unit
    (None: it was already answered)."""
    if not clarify(session, team_id, checkin_id, user_id, text, now):
        return None
    cancel_keys(session, team_id, escalations)
    return enqueue_all(session, [reply])


async def open_rating(
    services: Services, team_id: str, account_id: Any, user_id: str, trigger_id: str
) -> None:
    account = await load_account(services, team_id, account_id)
    if not await may_act(services, Action.RATE_PACKET, account, user_id, ("csm",)):
        raise Refusal(f"The CSM on {esc(account.name)} rates its handoff packet.")
    await services.client.views_open(trigger_id=trigger_id, view=rating_modal(account))


def rating_problems(view: dict[str, Any]) -> dict[str, str]:
    chosen = submitted(view, "rating", "selected_option") or {}
    if chosen.get("value") not in {"1", "2", "3", "4", "5"}:
        return {"rating": "Pick a rating from 1 to 5."}
    return too_long({"comment": submitted(view, "comment")}, TEXT_MAX)


async def submit_rating(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> None:
    chosen = submitted(view, "rating", "selected_option")
    try:
        account = await load_account(services, team_id, metadata(view).get("account_id"))
    except Refusal as refusal:
        await services.client.chat_postMessage(channel=user_id, text=str(refusal))
        return
    if not await may_act(services, Action.RATE_PACKET, account, user_id, ("csm",)):
        return  # no longer theirs to rate (reassigned since the form opened)
    missing = [o["value"] for o in submitted(view, "missing", "selected_options") or []]
    comment = (submitted(view, "comment") or "").strip() or None
    managers = sorted({account.manager_user_id, *services.managers} - {None})
    owed = await services.db.run(
        _rate,
        team_id,
        account.id,
        user_id,
        int(chosen["value"]),
        missing,
        comment,
        managers,
        services.clock(),
        immediate=True,
    )
    await deliver_now(services, owed)


def _rate(
    session: Session,
    team_id: str,
    account_id: int,
    user_id: str,
    rating: int,
    missing: list[str],
    comment: str | None,
    managers: list[str],
    now: datetime,
) -> list[int]:
    """The rating and, when the team's recent average is low, the managers' alert: one
    unit. Once a week per manager at most, however many ratings keep the average low."""
    save_rating(session, team_id, account_id, user_id, rating, missing, comment, now)
    ratings = latest_ratings(session, team_id, RATING_WINDOW)
    average = rating_alert([r.rating for r in ratings])
    if average is None:
        return []
    text = rating_alert_text(average, len(ratings), most_missing(r.missing for r in ratings))
    week = now.strftime("%G-W%V")
    alerts = [
        OwedMessage(
            team_id=team_id,
            dedupe_key=f"rating-alert:{week}:{m}",
            channel=m,
            text=text,
            due_at=now,
            subject_type=SubjectType.PERSON,
            subject_id=m,
        )
        for m in managers
    ]
    return enqueue_all(session, alerts)
