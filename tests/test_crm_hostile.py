"""Hostile bodies at the CRM doors, correctly signed or authorized: each gets a 4xx or a
2xx with one sentence, never a 5xx, and what is refused writes nothing."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.sandbox.hubspot.webhooks import signed_headers
from tests.test_crm_hubspot_door import SECRET as HUBSPOT_SECRET
from tests.test_crm_hubspot_door import Door
from tests.test_crm_hubspot_door import door as door  # noqa: F401 (fixtures)
from tests.test_crm_hubspot_door import hub as hub  # noqa: F401
from tests.test_crm_salesforce_doors import SECRET as FLOW_SECRET
from tests.test_crm_salesforce_doors import Doors
from tests.test_crm_salesforce_doors import doors as doors  # noqa: F401
from tests.test_crm_salesforce_doors import sf as sf  # noqa: F401

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=20,
)
# Bodies shaped almost like what the CRMs send, with hostile values in the fields.
EVENT = st.fixed_dictionaries(
    {
        "eventId": JSON,
        "portalId": st.just(62515) | JSON,
        "objectId": st.integers(min_value=-5, max_value=2**64) | JSON,
        "subscriptionType": st.sampled_from(["deal.propertyChange", "deal.creation"]) | JSON,
        "propertyName": JSON,
        "propertyValue": JSON,
        "occurredAt": JSON,
        "attemptNumber": JSON,
    }
)
RECORD = st.fixed_dictionaries(
    {
        "Id": st.just("006000000000001AAA") | JSON,
        "Name": JSON,
        "Amount": JSON,
        "CloseDate": JSON,
        "Owner": JSON,
        "IsWon": JSON,
    }
)
HOSTILE = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        return r.status, await r.text()


def _one_sentence(status: int, text: str) -> None:
    assert status < 500, text
    if status >= 400:
        answer = json.loads(text)
        assert answer["ok"] is False and answer["error"].endswith(".")


@HOSTILE
@given(payload=st.lists(EVENT, max_size=3) | JSON)
async def test_hostile_hubspot_bodies_get_a_clear_answer(door: Door, payload: Any) -> None:
    body = json.dumps(payload).encode()
    headers = signed_headers(HUBSPOT_SECRET, "POST", door.url, body, int(time.time() * 1000), "v1")
    status, text = await _post(door.url, body, headers)
    _one_sentence(status, text)
    assert door.count("accounts") == 0


@HOSTILE
@given(payload=st.lists(RECORD, max_size=3).map(lambda r: {"records": r}) | RECORD | JSON)
async def test_hostile_flow_bodies_get_a_clear_answer(doors: Doors, payload: Any) -> None:
    headers = {"Authorization": f"Bearer {FLOW_SECRET}", "Content-Type": "application/json"}
    status, text = await _post(
        f"{doors.bot.url}/crm/salesforce", json.dumps(payload).encode(), headers
    )
    _one_sentence(status, text)
    assert doors.count("accounts") == 0


@HOSTILE
@given(body=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
async def test_hostile_outbound_bodies_get_a_soap_fault(doors: Doors, body: bytes) -> None:
    status, text = await _post(
        f"{doors.bot.url}/crm/salesforce/outbound", body, {"Content-Type": "text/xml"}
    )
    assert 400 <= status < 500 and "<faultstring>" in text
    assert doors.nothing_written()


async def test_a_door_asked_for_a_workspace_baton_is_not_in_says_so(door: Door) -> None:
    url = door.url + "?team_id=T0NOTHERE"
    events = door.hub.api.creation_events(
        door.hub.portal.id, door.hub.api.add_deal(door.hub.portal.id)
    )
    body = json.dumps(events).encode()
    headers = signed_headers(HUBSPOT_SECRET, "POST", url, body, int(time.time() * 1000), "v1")
    status, text = await _post(url, body, headers)
    assert status == 422 and "team_id is not a workspace Baton is installed in." in text
    assert door.nothing_written()
