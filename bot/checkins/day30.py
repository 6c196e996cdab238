"""The day-30 notes, written when they are sent: the customer's introduction (whom to reach
for what, from the account's model) and the account channel's switch, from the packet as it
is then (the champion it names, filled in after the notes were owed)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from sqlmodel import Session

from bot.accounts.contacts import champion_of, contacts_of
from bot.checkins.blocks import customer_intro, primary_blocks
from bot.platform.kit import Block, esc
from bot.platform.services import Services
from storage.accounts import get_account
from storage.models import Account
from storage.outbox import Claim

GONE = "account gone"


def compose_intro(
    session: Session, services: Services, claim: Claim, now: datetime
) -> Claim | str | None:
    account = _account(session, claim)
    if account is None:
        return GONE
    text, blocks = _intro(session, services, account)
    return replace(claim, text=text, blocks=blocks)


def compose_day30(
    session: Session, services: Services, claim: Claim, now: datetime
) -> Claim | str | None:
    account = _account(session, claim)
    if account is None:
        return GONE
    intro, _ = _intro(session, services, account)
    contacts = contacts_of(services, account)
    return replace(
        claim,
        text=f"Day 30 for {esc(account.name)}: the CSM is now the primary owner.",
        blocks=primary_blocks(account, contacts, intro),
    )


def _account(session: Session, claim: Claim) -> Account | None:
    if claim.account_id is None:
        return None
    return get_account(session, claim.team_id, claim.account_id)


def _intro(session: Session, services: Services, account: Account) -> tuple[str, list[Block]]:
    return customer_intro(contacts_of(services, account), champion_of(session, account))
