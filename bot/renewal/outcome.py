"""How a renewal ends: renewed (the next cycle, and the hand-back to the CSM) or churned
(the root cause recorded, everything still owed cancelled)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from bot.accounts.load import Refusal, load_account
from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.people.permissions import may_act
from bot.platform.kit import esc, metadata, submitted
from bot.platform.services import Services
from bot.renewal.blocks import churn_text, churned_modal, handback_blocks, renewed_modal
from bot.renewal.planner import commercial_role, plan_cycle_in
from bot.renewal.replan import after_arr_change_in
from flows.bounds import DATE_RANGE, amount, bounded_day, too_long
from flows.outcomes import NOTE_MAX, ChurnReason, next_renewal_date, renewal_problems
from flows.permissions import Action
from storage.accounts import get_account
from storage.models import Account, AccountStatus
from storage.outbox import OwedMessage
from storage.ownership import mark_handback_held
from storage.renewals import record_churn, record_renewal


async def may_record(services: Services, account: Account, user_id: str) -> bool:
    """The account's AE, CSM or AM (or whoever covers for one of them), or a manager."""
    return await may_act(services, Action.RECORD_OUTCOME, account, user_id)


async def recordable(services: Services, team_id: str, account_id: Any, user_id: str) -> Account:
    account = await load_account(services, team_id, account_id)
    if not await may_record(services, account, user_id):
        raise Refusal(
            f"Only {esc(account.name)}'s AE, CSM, AM or a manager can record how its renewal ended."
        )
    if account.status == AccountStatus.CHURNED:
        raise Refusal(f"{esc(account.name)} is already recorded as churned.")
    return account


async def open_renewed(
    services: Services, team_id: str, account_id: Any, user_id: str, trigger_id: str
) -> None:
    account = await recordable(services, team_id, account_id, user_id)
    default = next_renewal_date(account.renewal_date, account.term_months)
    await services.client.views_open(trigger_id=trigger_id, view=renewed_modal(account, default))


async def open_churned(
    services: Services, team_id: str, account_id: Any, user_id: str, trigger_id: str
) -> None:
    account = await recordable(services, team_id, account_id, user_id)
    await services.client.views_open(
        trigger_id=trigger_id, view=churned_modal(account, services.today())
    )


@dataclass(frozen=True)
class Renewal:
    account_id: int
    cycle: date
    new_date: date
    new_arr: Decimal
    note: str | None


async def check_renewed(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> Renewal | dict[str, str]:
    meta = metadata(view)
    try:
        account = await recordable(services, team_id, meta.get("account_id"), user_id)
    except Refusal as refusal:
        return {"new_date": refusal.plain()}
    if str(account.renewal_date) != meta.get("cycle"):
        return {"new_date": "This renewal was already recorded; close this and look again."}
    errors: dict[str, str] = {}
    new_date = _picked_day(view, "new_date", "Pick the new renewal date.", errors)
    if new_date and (problem := renewal_problems(account.renewal_date, new_date, services.today())):
        errors["new_date"] = problem
    raw_arr = (submitted(view, "new_arr") or "").strip().replace(",", "")
    new_arr = amount(raw_arr) if raw_arr else account.arr
    if new_arr is None:
        errors["new_arr"] = "Write the new ARR as a number such as 120000."
    note = _note(view, errors)
    if errors:
        return errors
    assert new_date is not None and new_arr is not None
    return Renewal(account.id, account.renewal_date, new_date, new_arr, note)


def _picked_day(
    view: dict[str, Any], block: str, missing: str, errors: dict[str, str]
) -> date | None:
    """The date picked in `block`, or None with the error noted."""
    raw = submitted(view, block, "selected_date")
    day = bounded_day(raw)
    if day is None:
        errors[block] = f"Pick a date {DATE_RANGE}." if raw else missing
    return day


def _note(view: dict[str, Any], errors: dict[str, str]) -> str | None:
    note = (submitted(view, "note") or "").strip() or None
    errors.update(too_long({"note": note}, NOTE_MAX))
    return note


async def record_renewed(
    services: Services, team_id: str, user_id: str, renewal: Renewal
) -> Account:
    """Close the cycle as renewed, plan the next one, post the hand-back to the CSM."""
    before = await load_account(services, team_id, renewal.account_id)
    done = await services.db.run(
        _renewed, services, team_id, user_id, renewal, before, services.clock(), immediate=True
    )
    if done is None:
        raise Refusal(f"The renewal of {esc(before.name)} was already recorded.")
    account, owed = done
    await deliver_now(services, owed)
    return account


def _renewed(
    session: Session,
    services: Services,
    team_id: str,
    user_id: str,
    renewal: Renewal,
    before: Account,
    now: datetime,
) -> tuple[Account, list[int]] | None:
    """The renewal, the next cycle's milestones, the hand-back owed and the ARR's
    consequences, in one unit."""
    outcome = record_renewal(
        session,
        team_id,
        renewal.account_id,
        cycle=renewal.cycle,
        new_date=renewal.new_date,
        new_arr=renewal.new_arr,
        by=user_id,
        note=renewal.note,
        now=now,
    )
    if outcome is None:
        return None
    account = get_account(session, team_id, renewal.account_id)
    assert account is not None  # record_renewal holds its row
    plan_cycle_in(session, services, account, now)  # the next cycle's milestones, now
    # The hand-back names who held the commercial side in the cycle that just closed.
    handback = about(
        services,
        account,
        f"handback-{renewal.cycle}",
        account.channel_id or account.csm_user_id or user_id,
        f"{esc(account.name)} renewed: hand-back to the CSM",
        blocks=handback_blocks(account, outcome, commercial_role(services, before)),
    )
    owed = enqueue_all(session, [handback])
    return account, owed + after_arr_change_in(session, services, account, before.arr, now)


async def renewed_from_view(
    services: Services, renewal: Renewal, team_id: str, user_id: str
) -> None:
    try:
        await record_renewed(services, team_id, user_id, renewal)
    except Refusal as refusal:
        await services.client.chat_postMessage(channel=user_id, text=str(refusal))


def churn_problems(view: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    reason = (submitted(view, "reason", "selected_option") or {}).get("value")
    if reason not in {r.value for r in ChurnReason}:
        errors["reason"] = "Pick the root cause: it is what the churn review counts."
    _picked_day(view, "effective", "Pick the date the customer churned.", errors)
    _note(view, errors)
    return errors


async def submit_churned(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> None:
    try:
        account = await recordable(services, team_id, metadata(view).get("account_id"), user_id)
    except Refusal as refusal:
        await services.client.chat_postMessage(channel=user_id, text=str(refusal))
        return
    note = (submitted(view, "note") or "").strip() or None
    owed = await services.db.run(
        _churned,
        services,
        account,
        reason=submitted(view, "reason", "selected_option")["value"],
        effective=bounded_day(submitted(view, "effective", "selected_date")),
        by=user_id,
        note=note,
        now=services.clock(),
        immediate=True,
    )
    await deliver_now(services, owed)  # none when recorded meanwhile (a double submission)


def _churned(
    session: Session,
    services: Services,
    account: Account,
    *,
    reason: str,
    effective: date | None,
    by: str,
    note: str | None,
    now: datetime,
) -> list[int]:
    outcome = record_churn(
        session,
        account.team_id,
        account.id,
        reason=reason,
        effective=effective,
        by=by,
        note=note,
        now=now,
    )
    if outcome is None:
        return []
    text = churn_text(account, outcome, by)
    return enqueue_all(
        session, [about(services, account, "churned", account.channel_id or by, text)]
    )


async def handback_held(services: Services, team_id: str, value: Any, user_id: str) -> None:
    account = await load_account(services, team_id, value)
    if not await may_record(services, account, user_id):
        raise Refusal(f"The hand-back of {esc(account.name)} is for its AE, CSM, AM or a manager.")
    message = about(
        services,
        account,
        f"handback-held-{account.renewal_date}",
        account.channel_id or user_id,
        f":white_check_mark: Hand-back call for *{esc(account.name)}* held "
        f"(recorded by <@{user_id}>). The CSM owns the new cycle.",
    )
    owed = await services.db.run(
        _handback_held, account, user_id, services.clock(), message, immediate=True
    )
    if not owed:
        raise Refusal("The hand-back call is already recorded.")
    await deliver_now(services, owed)


def _handback_held(
    session: Session, account: Account, user_id: str, now: datetime, message: OwedMessage
) -> list[int]:
    mark_handback_held(session, account.team_id, account.id, account.renewal_date, user_id, now)
    return enqueue_all(session, [message])
