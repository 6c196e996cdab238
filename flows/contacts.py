"""Whom the customer calls for what, under the account's retention model.

The CSM owns the relationship and adoption under every model; the commercial side (the
renewal, pricing, the contract, expansion, the executive relationship) goes to whoever owns
the renewal (`flows.renewal.commercial_owner`): the CSM or an assigned AM under A, the AE
under B, the AM under C, and A or B by the ARR threshold under D.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from flows.renewal import commercial_owner
from flows.retention import RetentionModel, resolved_model


class Topic(StrEnum):
    DAY_TO_DAY = "day-to-day questions"
    ONBOARDING = "onboarding"
    ADOPTION = "adoption"
    RENEWAL = "the renewal"
    PRICING = "pricing"
    CONTRACT = "the contract"
    EXPANSION = "expansion"
    EXECUTIVE = "the executive relationship"


RELATIONSHIP_TOPICS = (Topic.DAY_TO_DAY, Topic.ONBOARDING, Topic.ADOPTION)
COMMERCIAL_TOPICS = (
    Topic.RENEWAL,
    Topic.PRICING,
    Topic.CONTRACT,
    Topic.EXPANSION,
    Topic.EXECUTIVE,
)


@dataclass(frozen=True)
class Team:
    """Who holds each role on our side, as the caller names people (None: nobody)."""

    ae: str | None
    csm: str | None
    am: str | None = None

    def person(self, role: str) -> str | None:
        return {"ae": self.ae, "csm": self.csm, "am": self.am}[role]


@dataclass(frozen=True)
class Contact:
    role: str  # csm, ae or am
    person: str | None
    topics: tuple[Topic, ...]


@dataclass(frozen=True)
class Contacts:
    model: RetentionModel  # the model in effect (a tiered account's side of the threshold)
    relationship: str  # the role that owns the relationship and adoption
    renewal: str  # the role that owns the renewal and the commercial side
    calls: tuple[Contact, ...]  # whom to call for what: the relationship owner first

    def who_for(self, topic: Topic) -> Contact:
        return next(c for c in self.calls if topic in c.topics)


def customer_contacts(
    model: RetentionModel, arr: Decimal, threshold: Decimal, team: Team
) -> Contacts:
    """The customer's contacts: who owns what, and whom to call for what."""
    renewal = commercial_owner(model, arr, threshold, has_am=team.am is not None)
    relationship = "csm"
    if renewal == relationship:
        calls: tuple[Contact, ...] = (
            Contact(relationship, team.csm, RELATIONSHIP_TOPICS + COMMERCIAL_TOPICS),
        )
    else:
        calls = (
            Contact(relationship, team.csm, RELATIONSHIP_TOPICS),
            Contact(renewal, team.person(renewal), COMMERCIAL_TOPICS),
        )
    return Contacts(resolved_model(model, arr, threshold), relationship, renewal, calls)


def champion_first_name(champion: object) -> str | None:
    """The first name of the champion as the packet names them ("Priya Shah, VP CS")."""
    if not isinstance(champion, str):
        return None
    words = champion.split(",")[0].split()
    return words[0] if words else None
