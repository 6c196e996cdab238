"""From stored rows to the ownership flow's facts (and back to people)."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Session

from bot.accounts.commercial import commercial_role
from bot.platform.services import Services
from flows.ownership import Facts, Ownership, ownership
from flows.retention import RetentionModel
from storage.accounts import get_account
from storage.models import Account, AccountStatus, RenewalOutcome
from storage.ownership import Holders, record_ownership


def facts_of(services: Services, account: Account, renewal: RenewalOutcome | None) -> Facts:
    tz = services.settings.timezone
    return Facts(
        closed_on=account.closed_at.astimezone(tz).date(),
        renewal_date=account.renewal_date,
        model=RetentionModel(account.retention_model),
        commercial=commercial_role(services, account),
        packet_complete=account.packet_completed_at is not None,
        churned_on=(
            account.churned_at.astimezone(tz).date()
            if account.status == AccountStatus.CHURNED and account.churned_at
            else None
        ),
        renewed_on=renewal.recorded_at.astimezone(tz).date() if renewal else None,
        hand_back_held=bool(renewal and renewal.handback_held_at),
    )


def ownership_of(
    services: Services, account: Account, renewal: RenewalOutcome | None, day: date
) -> Ownership:
    return ownership(facts_of(services, account, renewal), day)


def holders_of(services: Services, account: Account) -> Holders:
    return Holders(
        ae_user_id=account.ae_user_id,
        csm_user_id=account.csm_user_id,
        am_user_id=account.am_user_id,
        retention_model=account.retention_model,
        commercial=commercial_role(services, account),
    )


async def note_ownership(
    services: Services,
    team_id: str,
    account_id: int,
    cause: str,
    actor: str | None = None,
    note: str | None = None,
) -> bool:
    """Add to the account's ownership trail if its people or model changed."""
    return await services.db.run(
        note_ownership_in,
        services,
        team_id,
        account_id,
        cause,
        actor,
        note,
        now=services.clock(),
        immediate=True,
    )


def note_ownership_in(
    session: Session,
    services: Services,
    team_id: str,
    account_id: int,
    cause: str,
    actor: str | None = None,
    note: str | None = None,
    *,
    now: datetime,
) -> bool:
    """`note_ownership` in the caller's unit."""
    account = get_account(session, team_id, account_id)
    if account is None:
        return False
    return record_ownership(
        session, team_id, account_id, holders_of(services, account), now, cause, actor, note
    )
