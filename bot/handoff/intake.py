"""Closed-won deals in: from the CRM webhook or `/baton new`, idempotent on (team, crm_id)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.blocks.handoff import change_text, topic
from bot.handoff.provision import provision
from bot.http_input import BadRequest, json_value, utf8
from bot.ownership.facts import note_ownership
from bot.renewal.replan import after_arr_change, replan_owners
from bot.send import about, send_now
from bot.services import Services
from flows.intake import ClosedWon, parse_closed_won
from flows.retention import suggested_model
from storage.accounts import create_account, update_account
from storage.models import Account, AccountStatus
from storage.workspaces import workspace_ids

log = logging.getLogger(__name__)
# What a redelivered deal may change, and what that means for the account.
TRACKED = ("renewal_date", "arr", "ae_email", "csm_email", "am_email", "manager_email")


@dataclass(frozen=True)
class IntakeAnswer:
    status: int
    body: dict[str, Any]


async def closed_won(services: Services, raw: bytes) -> IntakeAnswer:
    try:
        body = json_value(utf8(raw))
    except BadRequest as bad:
        return IntakeAnswer(bad.status, {"ok": False, "error": bad.message})
    team_id = await _team_for(services, body)
    if isinstance(team_id, IntakeAnswer):
        return team_id
    deal = parse_closed_won(body, services.clock().date())
    if isinstance(deal, list):
        errors = [{"field": e.field, "message": f"{e.field} {e.message}"} for e in deal]
        return IntakeAnswer(422, {"ok": False, "errors": errors})
    account, created, changed = await accept_deal(services, team_id, deal)
    return IntakeAnswer(
        202,
        {
            "ok": True,
            "account_id": account.id,
            "created": created,
            "updated": sorted(changed),
            "channel_id": account.channel_id,
        },
    )


async def _team_for(services: Services, body: Any) -> str | IntakeAnswer:
    teams = await asyncio.to_thread(workspace_ids, services.engine)
    asked = body.get("team_id") if isinstance(body, dict) else None
    if asked:
        if asked not in teams:
            return IntakeAnswer(
                422,
                {
                    "ok": False,
                    "errors": [
                        {
                            "field": "team_id",
                            "message": "team_id is not a workspace Baton is installed in.",
                        }
                    ],
                },
            )
        return str(asked)
    if len(teams) == 1:
        return teams[0]
    return IntakeAnswer(
        422,
        {
            "ok": False,
            "errors": [
                {
                    "field": "team_id",
                    "message": "team_id is required: Baton is installed in several workspaces.",
                }
            ],
        },
    )


def _account_values(services: Services, team_id: str, deal: ClosedWon) -> dict[str, Any]:
    now = services.clock()
    model = suggested_model(deal.arr, services.settings.baton_arr_threshold)
    return {
        "team_id": team_id,
        "crm_id": deal.crm_id,
        "name": deal.account_name,
        "arr": deal.arr,
        "currency": deal.currency,
        "contract_start": deal.contract_start,
        "renewal_date": deal.renewal_date,
        "term_months": deal.term_months,
        "segment": deal.segment,
        "crm_url": deal.crm_url,
        "ae_email": deal.ae_email,
        "csm_email": deal.csm_email,
        "am_email": deal.am_email,
        "manager_email": deal.manager_email,
        "champion_email": deal.champion_email,
        "retention_model": model.value,
        "status": AccountStatus.HANDOFF_PENDING,
        "closed_at": now,
        "created_at": now,
        "updated_at": now,
        "plan_after": now,
    }


async def accept_deal(
    services: Services, team_id: str, deal: ClosedWon
) -> tuple[Account, bool, dict[str, tuple[Any, Any]]]:
    """Create the account (once), or apply what changed; then make Slack match."""
    values = _account_values(services, team_id, deal)
    account, created = await asyncio.to_thread(create_account, services.engine, values)
    changed: dict[str, tuple[Any, Any]] = {}
    if not created:
        changed = _differences(account, deal)
        if changed:
            account = await _apply_changes(services, account, changed)
    if created or account.provisioned_at is None or changed:
        try:
            account = await provision(services, account)
        except SlackApiError as exc:
            # Accepted all the same: the tick finishes provisioning when Slack answers.
            log.warning(
                "provisioning account %s stopped at a Slack error: %s",
                account.id,
                exc.response.get("error"),
            )
    return account, created, changed


def _differences(account: Account, deal: ClosedWon) -> dict[str, tuple[Any, Any]]:
    found = {}
    for key in TRACKED:
        old, new = getattr(account, key), getattr(deal, key)
        if isinstance(old, Decimal) or isinstance(new, Decimal):
            same = Decimal(old or 0) == Decimal(new or 0)
        else:
            same = old == new
        if not same:
            found[key] = (old, new)
    return found


async def _apply_changes(
    services: Services, account: Account, changed: dict[str, tuple[Any, Any]]
) -> Account:
    updates: dict[str, Any] = {key: new for key, (_old, new) in changed.items()}
    for key in changed:
        if key.endswith("_email"):
            updates[key.replace("_email", "_user_id")] = None  # find the new person
    updates["updated_at"] = updates["plan_after"] = services.clock()
    account = await asyncio.to_thread(
        update_account, services.engine, account.team_id, account.id, **updates
    )
    await note_ownership(
        services, account.team_id, account.id, "CRM update", note=", ".join(sorted(changed))
    )
    if account.channel_id:
        change = json.dumps(
            {k: [str(v) for v in pair] for k, pair in changed.items()}, sort_keys=True
        )
        digest = hashlib.sha256(change.encode()).hexdigest()[:16]
        await send_now(
            services,
            about(
                services,
                account,
                f"crm-change-{digest}",
                account.channel_id,
                change_text(account, changed),
            ),
        )
        await services.client.conversations_setTopic(
            channel=account.channel_id, topic=topic(account)
        )
    if "arr" in changed:
        await after_arr_change(services, account, Decimal(changed["arr"][0] or 0))
    if "am_email" in changed:
        await replan_owners(services, account)
    return account
