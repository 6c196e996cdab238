"""`/baton new`: the closed-won webhook as a modal, for teams without a CRM hook."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.handoff.intake import accept_deal
from bot.outbox.owe import send_now
from bot.people.directory import person
from bot.people.permissions import Creator, creator_kind, may_act
from bot.platform.kit import FIELD_ACTION, channel_mention, esc, who
from bot.platform.services import Services
from flows.intake import ClosedWon, parse_closed_won
from flows.permissions import Action
from storage.accounts import account_by_crm
from storage.kinds import SubjectType
from storage.outbox import OwedMessage

PEOPLE = {
    "ae": "ae_email",
    "csm": "csm_email",
    "am": "am_email",
    "ops": "ops_email",
    "manager": "manager_email",
}
# The answer to a submission (with its inline errors) must reach Slack within 3 seconds:
# looking people up gets this long, even when Slack rate-limits users.info.
LOOKUP_BUDGET_S = 1.5
# Which modal block shows the error for each deal field.
BLOCK_OF = {
    "ae_email": "ae",
    "csm_email": "csm",
    "am_email": "am",
    "ops_email": "ops",
    "manager_email": "manager",
    "term_months": "renewal_date",
    "currency": "arr",
    "segment": "account_name",
}


def _value(state: dict[str, Any], block_id: str) -> Any:
    element = state.get(block_id, {}).get(FIELD_ACTION, {})
    for key in ("selected_user", "selected_date", "value"):
        if element.get(key) is not None:
            return element[key]
    return None


async def _email_of(services: Services, team_id: str, user_id: str) -> str | None:
    try:
        return (await person(services, services.client, team_id, user_id)).email
    except SlackApiError:
        return None


async def _emails(
    services: Services, team_id: str, chosen: dict[str, str]
) -> dict[str, str | None | TimeoutError]:
    """Each chosen person's email (people Baton knows answer from its cache); a lookup
    Slack is too slow for is a TimeoutError, left to finish (and fill the cache)."""
    lookups = {
        block_id: asyncio.ensure_future(_email_of(services, team_id, user_id))
        for block_id, user_id in chosen.items()
    }
    if lookups:
        await asyncio.wait(lookups.values(), timeout=LOOKUP_BUDGET_S)
    return {
        block_id: task.result() if task.done() else TimeoutError()
        for block_id, task in lookups.items()
    }


@dataclass(frozen=True)
class NewAccount:
    deal: ClosedWon
    may_update: bool  # the CRM id is an existing account this person may change


NOT_A_CREATOR = (
    "You can't create accounts in Baton: managers, workspace admins and the people in "
    "BATON_CREATORS (by default, AEs Baton already knows) can. Ask one of them."
)


async def check_new_account(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> NewAccount | dict[str, str]:
    # Who may create at all comes first: nothing is looked up (or remembered) for others.
    kind = await creator_kind(services, team_id, user_id)
    if kind is None:
        return {"account_name": NOT_A_CREATOR}
    state = view.get("state", {}).get("values", {})
    body: dict[str, Any] = {
        key: _value(state, key)
        for key in (
            "account_name",
            "crm_id",
            "contract_start",
            "renewal_date",
            "champion_email",
            "crm_url",
        )
    }
    arr = _value(state, "arr")
    body["arr"] = arr if arr is not None else None
    errors: dict[str, str] = {}
    chosen = {block_id: _value(state, block_id) for block_id in PEOPLE}
    chosen = {block_id: user_id for block_id, user_id in chosen.items() if user_id}
    for block_id, email in (await _emails(services, team_id, chosen)).items():
        picked = chosen[block_id]
        if isinstance(email, TimeoutError):
            errors[block_id] = f"Slack is slow to tell me about {who(picked)}; submit again."
        elif email is None:
            errors[block_id] = f"{who(picked)} has no email address in Slack that Baton can read."
        body[PEOPLE[block_id]] = email if isinstance(email, str) else None
    deal = parse_closed_won(body, services.clock().date())
    if isinstance(deal, list):
        for problem in deal:
            errors.setdefault(
                BLOCK_OF.get(problem.field, problem.field),
                _sentence(problem.field, problem.message),
            )
    if errors:
        return errors
    assert isinstance(deal, ClosedWon)
    return await _authorized(services, team_id, user_id, state, deal, kind)


async def _authorized(
    services: Services,
    team_id: str,
    user_id: str,
    state: dict[str, Any],
    deal: ClosedWon,
    kind: Creator,
) -> NewAccount | dict[str, str]:
    """How far this creator may go, and who may change an account that already has this
    CRM id."""
    existing = await services.db.run(account_by_crm, team_id, deal.crm_id)
    if existing is not None:
        if not await may_act(services, Action.CHANGE_ACCOUNT, existing, user_id):
            # Inline errors are plain text: no mentions, no entities.
            manager = existing.manager_email or "its manager"
            return {
                "crm_id": f"CRM id {deal.crm_id} is already an account in Baton; only its "
                f"manager ({manager}) or a workspace admin can change it."
            }
        return NewAccount(deal, may_update=True)
    if kind != Creator.MANAGER and _value(state, "manager") == user_id:
        return {
            "manager": "Only a manager or a workspace admin can make themselves an "
            "account's manager: pick the account's manager."
        }
    if kind == Creator.OWN_DEALS and _value(state, "ae") != user_id:
        return {
            "ae": "You can create accounts for your own deals: pick yourself as the AE, "
            "or ask a manager."
        }
    return NewAccount(deal, may_update=False)


def _sentence(field: str, message: str) -> str:
    label = field.replace("_email", "").replace("_", " ")
    return f"{label.capitalize()} {message}"


async def create_new_account(
    services: Services, team_id: str, user_id: str, new: NewAccount
) -> None:
    account, created, changed = await accept_deal(
        services, team_id, new.deal, update=new.may_update, set_up_now=True
    )
    if created and account.channel_id:
        text = (
            f"Created *{esc(account.name)}*: the handoff starts in "
            f"{channel_mention(account.channel_id)}."
        )
    elif created:
        text = (
            f"Created *{esc(account.name)}*: Slack's rate limits hold its channel back for "
            "now; I will open it and invite everyone as soon as Slack allows."
        )
    elif changed:
        text = (
            f"*{esc(account.name)}* already existed (CRM id {esc(account.crm_id)}); I updated it."
        )
    else:
        text = (
            f"*{esc(account.name)}* already exists (CRM id {esc(account.crm_id)}); nothing changed."
        )
    await send_now(
        services,
        OwedMessage(
            team_id=team_id,
            dedupe_key=f"new-account:{account.id}:{user_id}:{services.clock().isoformat()}",
            channel=user_id,
            text=text,
            due_at=services.clock(),
            account_id=account.id,
            subject_type=SubjectType.ACCOUNT,
            subject_id=str(account.id),
        ),
    )
