"""An account's customer contacts (`flows.contacts`), and the block that tells the customer.

The block is the same wherever the customer is told (the day-30 introduction, a model
switch), so what they were last told can be compared with what they would be told now.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlmodel import Session

from bot.platform.kit import Block, esc, section, who
from bot.platform.services import Services
from flows.contacts import Contacts, Team, champion_first_name, customer_contacts
from flows.retention import RetentionModel
from storage.kinds import MessageKind
from storage.models import Account
from storage.packets import get_packet

CONTACTS_BLOCK = "customer_contacts"
# The roles as the customer knows them.
TITLES = {"csm": "customer success", "ae": "account executive", "am": "account manager"}
# The message kinds that tell the customer their contacts.
TELLING_KINDS = (MessageKind.CUSTOMER_INTRO, MessageKind.CUSTOMER_CONTACTS)


def champion_of(session: Session, account: Account) -> str | None:
    """The first name of the champion the packet names now ("Priya Shah, VP CS")."""
    packet = get_packet(session, account.team_id, account.id)
    return champion_first_name(packet.answers.get("champion") if packet else None)


def greeting(champion: str | None) -> str:
    """A hello by first name for the champion, else a neutral one; escaped."""
    return f"Hi {esc(champion)}" if champion else "Hello"


def team_of(account: Account) -> Team:
    has_am = bool(account.am_user_id or account.am_email)
    return Team(
        ae=who(account.ae_user_id, account.ae_email),
        csm=who(account.csm_user_id, account.csm_email),
        am=who(account.am_user_id, account.am_email) if has_am else None,
    )


def contacts_of(
    services: Services, account: Account, model: str | None = None, arr: Decimal | None = None
) -> Contacts:
    """The account's contacts now, or under another model or ARR (what they were before)."""
    return customer_contacts(
        RetentionModel(model or account.retention_model),
        account.arr if arr is None else arr,
        services.settings.baton_arr_threshold,
        team_of(account),
    )


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def contacts_lines(contacts: Contacts) -> str:
    """Whom to call for what, one person a line (their names are escaped mentions)."""
    return "\n".join(
        f"• {c.person or 'nobody yet'} ({TITLES[c.role]}): {_listed([str(t) for t in c.topics])}"
        for c in contacts.calls
    )


def contacts_block(contacts: Contacts) -> Block:
    return {**section(contacts_lines(contacts)), "block_id": CONTACTS_BLOCK}


def told_contacts(blocks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The contacts block of a message the customer was sent, if it has one."""
    return next((b for b in blocks if b.get("block_id") == CONTACTS_BLOCK), None)
