"""Whom the customer calls for what, under each retention model (`flows.contacts`)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.contacts import (
    COMMERCIAL_TOPICS,
    RELATIONSHIP_TOPICS,
    Team,
    Topic,
    champion_first_name,
    customer_contacts,
)
from flows.renewal import commercial_owner
from flows.retention import RetentionModel

A, B, C, D = (RetentionModel(m) for m in "ABCD")
THRESHOLD = Decimal(75000)
BELOW, AT, ABOVE = Decimal(74999.99), THRESHOLD, Decimal(250000)
WITH_AM = Team(ae="Ana", csm="Chen", am="Amir")
NO_AM = Team(ae="Ana", csm="Chen")
EVERYTHING = RELATIONSHIP_TOPICS + COMMERCIAL_TOPICS


def calls(model: RetentionModel, arr: Decimal, team: Team) -> list[tuple[str, str | None, tuple]]:
    contacts = customer_contacts(model, arr, THRESHOLD, team)
    return [(c.role, c.person, c.topics) for c in contacts.calls]


@pytest.mark.parametrize(
    ("model", "arr", "team", "expected"),
    [
        # A: the CSM for everything, the renewal and pricing included; an AM takes the
        # commercial side when one is assigned.
        (A, BELOW, NO_AM, [("csm", "Chen", EVERYTHING)]),
        (A, ABOVE, NO_AM, [("csm", "Chen", EVERYTHING)]),
        (
            A,
            BELOW,
            WITH_AM,
            [("csm", "Chen", RELATIONSHIP_TOPICS), ("am", "Amir", COMMERCIAL_TOPICS)],
        ),
        # B: the CSM day to day; the AE for pricing, contract, renewal, expansion and the
        # executive relationship, whatever the ARR, with or without an AM.
        (B, BELOW, NO_AM, [("csm", "Chen", RELATIONSHIP_TOPICS), ("ae", "Ana", COMMERCIAL_TOPICS)]),
        (
            B,
            ABOVE,
            WITH_AM,
            [("csm", "Chen", RELATIONSHIP_TOPICS), ("ae", "Ana", COMMERCIAL_TOPICS)],
        ),
        # C: the AM for the commercial side (the CSM while no AM is assigned).
        (
            C,
            ABOVE,
            WITH_AM,
            [("csm", "Chen", RELATIONSHIP_TOPICS), ("am", "Amir", COMMERCIAL_TOPICS)],
        ),
        (C, ABOVE, NO_AM, [("csm", "Chen", EVERYTHING)]),
        # D: A below the threshold, B at or above it.
        (D, BELOW, NO_AM, [("csm", "Chen", EVERYTHING)]),
        (D, AT, NO_AM, [("csm", "Chen", RELATIONSHIP_TOPICS), ("ae", "Ana", COMMERCIAL_TOPICS)]),
        (
            D,
            ABOVE,
            NO_AM,
            [("csm", "Chen", RELATIONSHIP_TOPICS), ("ae", "Ana", COMMERCIAL_TOPICS)],
        ),
        (
            D,
            BELOW,
            WITH_AM,
            [("csm", "Chen", RELATIONSHIP_TOPICS), ("am", "Amir", COMMERCIAL_TOPICS)],
        ),
    ],
)
def test_whom_the_customer_calls_for_what_under_each_model(
    model: RetentionModel, arr: Decimal, team: Team, expected: list
) -> None:
    assert calls(model, arr, team) == expected


def test_the_model_in_effect_and_the_owners_are_named() -> None:
    below = customer_contacts(D, BELOW, THRESHOLD, NO_AM)
    above = customer_contacts(D, ABOVE, THRESHOLD, NO_AM)
    assert (below.model, below.relationship, below.renewal) == (A, "csm", "csm")
    assert (above.model, above.relationship, above.renewal) == (B, "csm", "ae")
    assert above.who_for(Topic.PRICING).person == "Ana"
    assert above.who_for(Topic.ADOPTION).person == "Chen"


people = st.one_of(st.none(), st.text(min_size=1, max_size=8))
amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False)


@given(
    model=st.sampled_from(list(RetentionModel)),
    arr=amounts,
    threshold=amounts,
    team=st.builds(Team, ae=people, csm=people, am=people),
)
def test_every_topic_has_exactly_one_contact_who_holds_its_role(
    model: RetentionModel, arr: Decimal, threshold: Decimal, team: Team
) -> None:
    contacts = customer_contacts(model, arr, threshold, team)
    topics = [t for c in contacts.calls for t in c.topics]
    assert sorted(topics) == sorted(Topic)  # each once: nobody shares a topic, none is lost
    assert contacts.relationship == "csm" and contacts.calls[0].role == "csm"
    assert contacts.renewal == commercial_owner(model, arr, threshold, team.am is not None)
    assert all(c.person == team.person(c.role) for c in contacts.calls)
    for topic in RELATIONSHIP_TOPICS:
        assert contacts.who_for(topic).role == "csm"
    for topic in COMMERCIAL_TOPICS:
        assert contacts.who_for(topic).role == contacts.renewal
    if model == D:  # tiered: exactly what A or B says on its side of the threshold
        side = B if arr >= threshold else A
        assert contacts.calls == customer_contacts(side, arr, threshold, team).calls
        assert contacts.model == side
    else:
        assert contacts.model == model


@pytest.mark.parametrize(
    ("champion", "first"),
    [
        ("Priya Shah, VP Customer Success", "Priya"),
        ("  Tom  ", "Tom"),
        ("", None),
        (", VP", None),
        (None, None),
        (["Priya"], None),
    ],
)
def test_the_champion_is_greeted_by_first_name(champion: object, first: str | None) -> None:
    assert champion_first_name(champion) == first
