"""Deals from a real CRM (its webhooks, the sync), through the closed-won intake.

Every door turns what its CRM sends into the closed-won body through the mapping, then
takes it exactly as `POST /crm/closed-won` would: the same validation, the same account
per (team, crm_id), the same rule that older CRM news never overwrites newer, the same
set-up queue. A deal that is not closed-won only updates an account Baton already has.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.handoff.intake import accept_deal
from bot.platform.services import Services
from flows.intake import parse_closed_won
from storage.accounts import account_by_crm
from storage.faults import FaultKey, clear_faults, record_fault

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CrmDeal:
    """A deal as a CRM has it now, already in Baton's field names."""

    crm: str  # hubspot | salesforce
    body: dict[str, Any]
    closed_won: bool


@dataclass(frozen=True)
class Outcome:
    crm_id: str
    result: str  # created | updated | unchanged | skipped | refused
    account_id: int | None = None
    problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        shown: dict[str, Any] = {"crm_id": self.crm_id, "result": self.result}
        if self.account_id is not None:
            shown["account_id"] = self.account_id
        if self.problems:
            shown["problems"] = self.problems
        return shown


async def take_deals(services: Services, team_id: str, deals: list[CrmDeal]) -> list[Outcome]:
    """Each deal in turn (a failure of one is that deal's: it is recorded for `/baton
    status` and the others go on)."""
    return [await take_deal(services, team_id, deal) for deal in deals]


async def take_deal(services: Services, team_id: str, deal: CrmDeal) -> Outcome:
    crm_id = str(deal.body.get("crm_id") or "")[:64]
    if not deal.closed_won:
        known = crm_id and await services.db.run(account_by_crm, team_id, crm_id)
        if not known:
            return Outcome(crm_id, "skipped", problems=["The deal is not closed-won."])
    parsed = parse_closed_won(deal.body, services.clock().date())
    key = FaultKey(team_id, "deal", f"{deal.crm}:{crm_id or '?'}", "intake")
    if isinstance(parsed, list):
        problems = [f"{e.field} {e.message}" for e in parsed]
        log.warning("%s deal %s refused: %s", deal.crm, crm_id or "?", "; ".join(problems))
        await services.db.run(
            _note_refusal, key, " ".join(problems), services.clock(), immediate=True
        )
        return Outcome(crm_id, "refused", problems=problems)
    account, created, changed = await accept_deal(
        services, team_id, parsed, crm_time=parsed.updated_at or services.clock()
    )
    await services.db.run(clear_faults, [key])
    result = "created" if created else "updated" if changed else "unchanged"
    return Outcome(parsed.crm_id, result, account.id)


def _note_refusal(session: Session, key: FaultKey, error: str, now: datetime) -> None:
    record_fault(session, key, error, now)
