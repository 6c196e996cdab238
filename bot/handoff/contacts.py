"""When the retention model switches (a tiered account crossing the ARR threshold, a model
chosen anew in the packet or by a pilot), the customer is told whom to call for what, in
their shared channel, and the account channel hears of the switch.

The customer's note is owed in the unit of the change and written when it is sent, from
the contacts as they are then: two quick switches that end where the customer was last
told (or before the day-30 introduction, which names the contacts itself) say nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session

from bot.accounts.contacts import (
    TELLING_KINDS,
    champion_of,
    contacts_block,
    contacts_lines,
    contacts_of,
    greeting,
    told_contacts,
)
from bot.outbox.owe import STALE_AFTER, about, enqueue_all
from bot.platform.kit import esc, section
from bot.platform.services import Services
from flows.contacts import Topic
from flows.ownership import ROLE_NAMES
from flows.retention import RetentionModel
from storage.accounts import get_account
from storage.kinds import MessageKind
from storage.models import Account
from storage.outbox import Claim, OwedMessage, last_sent_blocks, still_owes

KIND = MessageKind.CUSTOMER_CONTACTS
DECIDING = frozenset({"retention_model", "arr"})  # what the contacts follow from


def contacts_switched(
    session: Session,
    services: Services,
    account: Account,
    changed: dict[str, tuple[object, object]],
    now: datetime,
) -> list[int]:
    """A change of model or ARR that changes the customer's contacts: their note owed (to
    be written when it is sent), and the account channel's note of a new model."""
    if not changed.keys() & DECIDING:
        return []
    old_model = changed.get("retention_model", (None, None))[0]
    old_arr = Decimal(str(changed["arr"][0] or 0)) if "arr" in changed else None
    before = contacts_of(services, account, str(old_model) if old_model else None, old_arr)
    if before == contacts_of(services, account):
        return []
    # Keyed by what it switched to as well: two switches at one instant are two notes.
    stamp = f"{account.retention_model}-{account.arr:f}-{now:%Y%m%dT%H%M%S%f}"
    messages: list[OwedMessage] = []
    if account.ext_channel_id:
        messages.append(
            about(
                services,
                account,
                f"customer-contacts-{stamp}",
                account.ext_channel_id,
                "Who to reach for what",  # written when it is sent
                kind=KIND,
                expires_at=now + STALE_AFTER,
            )
        )
    if "retention_model" in changed and account.channel_id:
        text = switch_text(services, account, str(old_model or ""))
        messages.append(about(services, account, f"model-{stamp}", account.channel_id, text))
    return enqueue_all(session, messages)


def switch_text(services: Services, account: Account, before: str) -> str:
    """The account channel's note of a new model: who owns the renewal now, and whether
    the customer is told."""
    contacts = contacts_of(services, account)
    renewal, csm = contacts.who_for(Topic.RENEWAL), contacts.who_for(Topic.ADOPTION)
    if renewal.role == csm.role:
        owners = f"The CSM {csm.person} now owns the renewal and the commercial side too."
    else:
        owners = (
            f"The renewal and the commercial side now belong to the {ROLE_NAMES[renewal.role]} "
            f"{renewal.person or 'nobody yet'}; the CSM {csm.person} keeps the relationship "
            f"and adoption."
        )
    told = (
        f"The customer is told whom to reach for what in <#{account.ext_channel_id}>."
        if account.ext_channel_id
        else "There is no customer channel: tell the customer their contacts yourselves."
    )
    label = RetentionModel(account.retention_model).label
    return (
        f":twisted_rightwards_arrows: *{esc(account.name)}* switched from model {esc(before)} "
        f"to {esc(label)}. {owners} {told}"
    )


def compose(session: Session, services: Services, claim: Claim, now: datetime) -> Claim | str:
    """The customer's note as it goes, from their contacts now; or why it says nothing."""
    account = get_account(session, claim.team_id, claim.account_id or 0)
    if account is None:
        return "account gone"
    contacts = contacts_of(services, account)
    told = last_sent_blocks(session, account.team_id, account.id, TELLING_KINDS)
    if told is None and still_owes(
        session, account.team_id, account.id, [MessageKind.CUSTOMER_INTRO]
    ):
        return "the day-30 introduction will name the contacts"
    block = contacts_block(contacts)
    if told is not None and told_contacts(told) == block:
        return "the customer already knows these contacts"
    opening = (
        f"{greeting(champion_of(session, account))}, a change on our side for {esc(account.name)}: "
        f"from now on, here is whom to reach for what."
    )
    closing = "Nothing else changes: reach us here as always."
    text = f"{opening}\n{contacts_lines(contacts)}\n{closing}"
    return replace(claim, text=text, blocks=[section(opening), block, section(closing)])
