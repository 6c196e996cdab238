"""Closed-won deals in: from the CRM webhook or `/baton new`, idempotent on (team, crm_id)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session

from bot.accounts.changes import account_changed
from bot.accounts.facts import note_ownership_in
from bot.handoff.blocks import change_text
from bot.handoff.provision import provision
from bot.handoff.webhook_auth import Delivery
from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.platform.http_input import BadRequest, json_value, utf8
from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from flows.intake import ClosedWon, parse_closed_won
from flows.retention import suggested_model
from storage.accounts import create_account, update_from_crm
from storage.models import Account, AccountStatus
from storage.receipts import first_receipt, forget_receipt
from storage.workspaces import workspace_ids

log = logging.getLogger(__name__)
# What a redelivered deal may change, and what that means for the account.
TRACKED = ("renewal_date", "arr", "ae_email", "csm_email", "am_email", "manager_email")


@dataclass(frozen=True)
class IntakeAnswer:
    status: int
    body: dict[str, Any]


REPLAYED = (
    "This delivery was already received (its signature was used before): sign every delivery anew."
)


async def closed_won(
    services: Services, raw: bytes, delivery: Delivery, *, set_up_now: bool = False
) -> IntakeAnswer:
    """Take a closed-won deal in and answer. Its set-up in Slack is queued (a worker starts
    on it at once), unless `set_up_now` (a test's, or the demo's, complete-then-answer)."""
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
    db, signature = services.db, delivery.signature
    if not await db.run(first_receipt, team_id, signature, services.clock()):
        return IntakeAnswer(409, {"ok": False, "error": REPLAYED})
    try:
        account, created, changed = await accept_deal(
            services,
            team_id,
            deal,
            crm_time=deal.updated_at or delivery.signed_at,
            set_up_now=set_up_now,
        )
    except Exception:
        # Not taken after all (the database went away): the CRM's retry must get in.
        with contextlib.suppress(Exception):
            await db.run(forget_receipt, team_id, signature)
        raise
    return IntakeAnswer(
        202,
        {
            "ok": True,
            "account_id": account.id,
            "created": created,
            "updated": sorted(changed),
            "channel_id": account.channel_id,
            "setup": "queued" if account.setup_due_at is not None else "done",
        },
    )


async def _team_for(services: Services, body: Any) -> str | IntakeAnswer:
    teams = await services.db.run(workspace_ids)
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
        "setup_due_at": now,
    }


async def accept_deal(
    services: Services,
    team_id: str,
    deal: ClosedWon,
    *,
    update: bool = True,
    crm_time: datetime | None = None,
    set_up_now: bool = False,
) -> tuple[Account, bool, dict[str, tuple[Any, Any]]]:
    """Create the account (once), or apply what changed (`update`, and unless `crm_time`
    is older than the account's last CRM news); what Slack must then show is owed to the
    set-up queue in the same unit. `set_up_now` does it before returning, as far as Slack's
    rate limits allow at once; the queue has the rest."""
    values = _account_values(services, team_id, deal) | {"crm_updated_at": crm_time}
    account, created = await services.db.run(create_account, values)
    changed: dict[str, tuple[Any, Any]] = {}
    if not created and update:
        applied = await services.db.run(
            _apply_crm,
            services,
            team_id,
            account.id,
            deal,
            crm_time,
            services.clock(),
            immediate=True,
        )
        if applied is None:
            log.info("account %s: a CRM update older than the last one was ignored", account.id)
        else:
            account, changed, owed = applied
            await deliver_now(services, owed)
    if account.setup_due_at is None:
        return account, created, changed
    if not set_up_now:
        services.setup_wanted.set()
        return account, created, changed
    try:
        account = await provision(services, account)
    except OverBudget:
        services.setup_wanted.set()
    except SlackApiError as exc:
        # Accepted all the same: the queue finishes the set-up when Slack answers.
        log.warning(
            "provisioning account %s stopped at a Slack error: %s",
            account.id,
            exc.response.get("error"),
        )
    return account, created, changed


def _apply_crm(
    session: Session,
    services: Services,
    team_id: str,
    account_id: int,
    deal: ClosedWon,
    crm_time: datetime | None,
    now: datetime,
) -> tuple[Account, dict[str, tuple[Any, Any]], list[int]] | None:
    """What the CRM says now, the ownership trail, the channel's note of the change and what
    the features owe for it: one unit (None: older news than the account has)."""
    wanted = {key: getattr(deal, key) for key in TRACKED}
    applied = update_from_crm(session, team_id, account_id, wanted, crm_time, now)
    if applied is None:
        return None
    account, changed = applied
    if not changed:
        return account, changed, []
    account.setup_due_at = now  # the topic shows ARR; new people are invited
    note = ", ".join(sorted(changed))
    note_ownership_in(
        session, services, account.team_id, account.id, "CRM update", note=note, now=now
    )
    owed = []
    if account.channel_id:
        change = json.dumps(
            {k: [str(v) for v in pair] for k, pair in changed.items()}, sort_keys=True
        )
        digest = hashlib.sha256(change.encode()).hexdigest()[:16]
        text = change_text(account, changed)
        message = about(services, account, f"crm-change-{digest}", account.channel_id, text)
        owed = enqueue_all(session, [message])
    owed += account_changed(session, services, account, changed, now)
    return account, changed, owed
