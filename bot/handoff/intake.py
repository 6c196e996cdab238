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
from storage.accounts import create_account, create_accounts, update_from_crm
from storage.group_commit import GroupCommit
from storage.models import Account, AccountStatus
from storage.receipts import first_receipts, forget_receipt
from storage.wakeups import SETUP, announce
from storage.workspaces import workspace_ids

log = logging.getLogger(__name__)
# What a redelivered deal may change, and what that means for the account.
TRACKED = (
    "renewal_date",
    "arr",
    "ae_email",
    "csm_email",
    "am_email",
    "ops_email",
    "manager_email",
)


@dataclass(frozen=True)
class IntakeAnswer:
    status: int
    body: dict[str, Any]


REPLAYED = (
    "This delivery was already received (its signature was used before): sign every delivery anew."
)


@dataclass(frozen=True)
class Arrival:
    """A signed, valid deal from the webhook, on its way into the next group commit."""

    asked_team: Any  # the body's team_id, if it names one
    signature: str
    deal: ClosedWon
    crm_time: datetime


Taken = tuple[Account, bool]  # the account, and whether this delivery created it
DealIntake = GroupCommit[Arrival, "Taken | IntakeAnswer"]


def deal_intake(services: Services) -> DealIntake:
    """Where the webhook's deals go in: the receipts and accounts of deals that arrive
    together, in one transaction (one per process's web loop)."""
    return GroupCommit(services.db, take_in, services, immediate=True)


async def closed_won(
    services: Services,
    intake: DealIntake,
    raw: bytes,
    delivery: Delivery,
    *,
    set_up_now: bool = False,
) -> IntakeAnswer:
    """Take a closed-won deal in and answer once it is committed. Its set-up in Slack is
    queued (a worker starts on it at once), unless `set_up_now` (a test's, or the demo's,
    complete-then-answer)."""
    try:
        body = json_value(utf8(raw))
    except BadRequest as bad:
        return IntakeAnswer(bad.status, {"ok": False, "error": bad.message})
    deal = parse_closed_won(body, services.clock().date())
    if isinstance(deal, list):
        team_id = await _team_for(services, body)  # a wrong workspace is said first
        if isinstance(team_id, IntakeAnswer):
            return team_id
        errors = [{"field": e.field, "message": f"{e.field} {e.message}"} for e in deal]
        return IntakeAnswer(422, {"ok": False, "errors": errors})
    crm_time = deal.updated_at or delivery.signed_at
    taken = await intake.run(Arrival(body.get("team_id"), delivery.signature, deal, crm_time))
    if isinstance(taken, IntakeAnswer):
        return taken
    account, created = taken
    try:
        account, changed = await settle_deal(
            services, account, created, deal, crm_time=crm_time, set_up_now=set_up_now
        )
    except Exception:
        # Not taken after all (the database went away): the CRM's retry must get in.
        with contextlib.suppress(Exception):
            await services.db.run(forget_receipt, account.team_id, delivery.signature)
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


def take_in(
    session: Session, arrivals: list[Arrival], services: Services
) -> list[Taken | IntakeAnswer]:
    """One unit for deals that arrived together: each one's workspace, its receipt (a
    replayed signature is refused) and its account, created once per (team, crm_id)."""
    now = services.clock()
    teams = workspace_ids(session)
    answers: dict[int, Taken | IntakeAnswer] = {}
    placed: list[tuple[int, str]] = []
    for n, arrival in enumerate(arrivals):
        team = _team_of(teams, arrival.asked_team)
        if isinstance(team, IntakeAnswer):
            answers[n] = team
        else:
            placed.append((n, team))
    fresh = first_receipts(session, [(team, arrivals[n].signature) for n, team in placed], now)
    kept = []
    for (n, team), first in zip(placed, fresh, strict=True):
        if first:
            kept.append((n, team))
        else:
            answers[n] = IntakeAnswer(409, {"ok": False, "error": REPLAYED})
    rows = [
        account_values(services, team, arrivals[n].deal, now)
        | {"crm_updated_at": arrivals[n].crm_time}
        for n, team in kept
    ]
    accounts = create_accounts(session, rows)
    claimed: set[tuple[str, str]] = set()
    for n, team in kept:
        key = (team, arrivals[n].deal.crm_id)
        account, created = accounts[key]
        answers[n] = (account, created and key not in claimed)  # one deal twice: created once
        claimed.add(key)
    return [answers[n] for n in range(len(arrivals))]


async def _team_for(services: Services, body: Any) -> str | IntakeAnswer:
    asked = body.get("team_id") if isinstance(body, dict) else None
    return _team_of(await services.db.run(workspace_ids), asked)


def _team_of(teams: list[str], asked: Any) -> str | IntakeAnswer:
    """The workspace a deal is for: the one it names, or the only one Baton is in."""
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


def account_values(
    services: Services, team_id: str, deal: ClosedWon, now: datetime
) -> dict[str, Any]:
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
        "ops_email": deal.ops_email,
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
    """Create the account (once), then `settle_deal`."""
    values = account_values(services, team_id, deal, services.clock())
    account, created = await services.db.run(create_account, values | {"crm_updated_at": crm_time})
    account, changed = await settle_deal(
        services, account, created, deal, update=update, crm_time=crm_time, set_up_now=set_up_now
    )
    return account, created, changed


async def settle_deal(
    services: Services,
    account: Account,
    created: bool,
    deal: ClosedWon,
    *,
    update: bool = True,
    crm_time: datetime | None = None,
    set_up_now: bool = False,
) -> tuple[Account, dict[str, tuple[Any, Any]]]:
    """After the account is committed: apply what changed to one that existed (`update`,
    and unless `crm_time` is older than the account's last CRM news); what Slack must then
    show is owed to the set-up queue in the same unit. `set_up_now` does it before
    returning, as far as Slack's rate limits allow at once; the queue has the rest."""
    changed: dict[str, tuple[Any, Any]] = {}
    if not created and update:
        applied = await services.db.run(
            apply_crm,
            services,
            account.team_id,
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
        return account, changed
    if not set_up_now:
        services.setup_wanted.set()
        return account, changed
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
    return account, changed


def apply_crm(
    session: Session,
    services: Services,
    team_id: str,
    account_id: int,
    deal: ClosedWon,
    crm_time: datetime | None,
    now: datetime,
    cause: str = "CRM update",
) -> tuple[Account, dict[str, tuple[Any, Any]], list[int]] | None:
    """What the CRM says now, the ownership trail (its entry's `cause`), the channel's note
    of the change and what the features owe for it: one unit (None: older news than the
    account has)."""
    wanted = {key: getattr(deal, key) for key in TRACKED}
    applied = update_from_crm(session, team_id, account_id, wanted, crm_time, now)
    if applied is None:
        return None
    account, changed = applied
    if not changed:
        return account, changed, []
    account.setup_due_at = now  # the topic shows ARR; new people are invited
    announce(session, SETUP)
    note = ", ".join(sorted(changed))
    note_ownership_in(session, services, account.team_id, account.id, cause, note=note, now=now)
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
