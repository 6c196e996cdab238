"""Check-ins: the CSM logs them, the AE sees the first four, a mismatch is the AE's to answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from slack_sdk.errors import SlackApiError

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
from bot.outbox.owe import about, send_now
from bot.people.escalation import escalate, escalation_keys, zone
from bot.people.permissions import allowed, may_act
from bot.platform.kit import esc, metadata, submitted, who
from bot.platform.services import Services
from flows.bounds import bounded_day, record_id, too_long
from flows.checkins import TEXT_MAX, ae_is_copied, most_missing, problems, rating_alert
from flows.gate import escalation_time
from flows.permissions import Action, Role
from storage.accounts import claim_once
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
from storage.kinds import MessageKind, Subject
from storage.models import Account, Checkin
from storage.outbox import OwedMessage, cancel_keys, sent_message
from storage.packets import get_packet

RATING_WINDOW = 10


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


async def save(services: Services, submission: CheckinSubmission) -> tuple[Checkin, bool]:
    """Store it before the modal closes: (the check-in, whether it is a new one)."""
    account, now = submission.account, services.clock()
    if submission.checkin_id is not None:
        checkin = await services.db.run(
            edit_checkin,
            account.team_id,
            submission.checkin_id,
            submission.values,
            submission.user_id,
            now,
            immediate=True,
        )
        return checkin, False
    return await services.db.run(
        record_checkin,
        account.team_id,
        account.id,
        f"{CHECKIN_VIEW}:{submission.key}",
        submission.values,
        submission.user_id,
        now,
        immediate=True,
    )


async def announce(
    services: Services, submission: CheckinSubmission, saved: tuple[Checkin, bool]
) -> None:
    """Post it, copy the AE (1–4), ask for a clarification. Nothing here waits on the post
    being confirmed: a post Slack defers (rate limit) or that is still being reconciled
    must not cost the AE their copy or the manager their escalation."""
    checkin, new = saved
    account = submission.account
    if new:
        await _post(services, account, checkin)
    else:
        await _update_post(services, account, checkin)
    if checkin.mismatch and checkin.clarified_at is None:
        await _owe_mismatch_escalation(services, account, checkin)
    link = await _link(services, account, checkin)
    messages = []
    if new and ae_is_copied(checkin.number) and account.ae_user_id:
        messages.append(
            about(
                services,
                account,
                f"checkin-cc-{checkin.id}",
                account.ae_user_id,
                cc_text(account, checkin, link),
                subject=Subject.checkin(checkin.id),
            )
        )
    if checkin.mismatch and checkin.clarified_at is None and account.ae_user_id:
        messages.append(
            about(
                services,
                account,
                f"mismatch-ask-{checkin.id}",
                account.ae_user_id,
                "Please clarify an expectation mismatch.",
                blocks=clarify_blocks(account, checkin, link),
                subject=Subject.checkin(checkin.id),
            )
        )
    await send_now(services, *messages)
    if checkin.first_value:
        await _first_value(services, account)


def _post_key(checkin: Checkin) -> str:
    return f"checkin-{checkin.id}"


async def _post(services: Services, account: Account, checkin: Checkin) -> None:
    await send_now(
        services,
        about(
            services,
            account,
            _post_key(checkin),
            account.channel_id or "",
            f"Check-in #{checkin.number} for {esc(account.name)}",
            blocks=checkin_blocks(account, checkin),
            subject=Subject.checkin(checkin.id),
        ),
    )


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


async def _link(services: Services, account: Account, checkin: Checkin) -> str:
    """A permalink to the post, or to the channel while the post is not confirmed yet."""
    posted = await posted_at(services, account, checkin)
    if posted is None:
        return f"https://slack.com/app_redirect?channel={account.channel_id}"
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


async def _owe_mismatch_escalation(services: Services, account: Account, checkin: Checkin) -> None:
    if not account.ae_user_id:
        return
    after = escalation_time(
        checkin.created_at,
        await zone(services, account, account.ae_user_id),
        services.settings.holidays,
    )
    await escalate(
        services,
        account,
        f"mismatch-escalation-{checkin.id}",
        mismatch_escalation_text(account, checkin),
        after,
        MessageKind.MISMATCH_ESCALATION,
        Subject.checkin(checkin.id),
    )


async def _first_value(services: Services, account: Account) -> None:
    now = services.clock()
    if not await services.db.run(
        claim_once, account.team_id, account.id, "first_value_at", now, immediate=True
    ):
        return
    days = (now - account.closed_at).days
    await send_now(
        services,
        about(
            services,
            account,
            "first-value",
            account.channel_id or "",
            f":tada: *{esc(account.name)}* reached first value {days} days "
            f"after close (time-to-first-value recorded).",
        ),
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
    if not await services.db.run(clarify, team_id, checkin.id, user_id, text, services.clock()):
        return  # already answered (a double submission): nothing more to say
    keys = escalation_keys(services, account, f"mismatch-escalation-{checkin.id}")
    posted = await posted_at(services, account, checkin)
    await services.db.run(cancel_keys, team_id, keys)
    await send_now(
        services,
        about(
            services,
            account,
            f"clarified-{checkin.id}",
            posted[0] if posted else account.channel_id or "",
            f"{who(user_id)} clarifies: {esc(text)}",
            thread_ts=posted[1] if posted else None,
            subject=Subject.checkin(checkin.id),
        ),
    )


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
    now = services.clock()
    await services.db.run(
        save_rating,
        team_id,
        account.id,
        user_id,
        int(chosen["value"]),
        missing,
        comment,
        now,
        immediate=True,
    )
    await _maybe_alert(services, team_id, account)


async def _maybe_alert(services: Services, team_id: str, account: Account) -> None:
    ratings = await services.db.run(latest_ratings, team_id, RATING_WINDOW)
    average = rating_alert([r.rating for r in ratings])
    if average is None:
        return
    text = rating_alert_text(average, len(ratings), most_missing(r.missing for r in ratings))
    # Once a week per manager at most, however many ratings keep the average low.
    week, now = services.clock().strftime("%G-W%V"), services.clock()
    managers = sorted({account.manager_user_id, *services.managers} - {None})
    await send_now(
        services,
        *(
            OwedMessage(
                team_id=team_id,
                dedupe_key=f"rating-alert:{week}:{m}",
                channel=m,
                text=text,
                due_at=now,
            )
            for m in managers
        ),
    )  # type: ignore[arg-type]
