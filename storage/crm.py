"""What Baton has taken from CRMs: their delivery ids (so a retry is skipped) and how far
the sync has read each one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlmodel import Session

from storage.db import insert_for
from storage.models import CrmEvent, CrmSync

# HubSpot retries a failed webhook for up to a day, Salesforce an Outbound Message for 24
# hours: an id is kept three days.
KEEP_EVENTS = timedelta(days=3)
EVENT_ID_MAX = 64
ERROR_MAX = 500


def unseen_events(session: Session, team_id: str, source: str, ids: Sequence[str]) -> list[str]:
    """The ids of `ids` not taken before, in their order, each once."""
    wanted = list(dict.fromkeys(i[:EVENT_ID_MAX] for i in ids))
    if not wanted:
        return []
    seen = set(
        session.scalars(
            select(CrmEvent.event_id).where(
                CrmEvent.team_id == team_id,
                CrmEvent.source == source,
                CrmEvent.event_id.in_(wanted),
            )
        )
    )
    return [i for i in wanted if i not in seen]


def record_events(
    session: Session, team_id: str, source: str, ids: Sequence[str], now: datetime
) -> None:
    """These deliveries are taken (after their deals were, so a crash in between means a
    retry is taken again, which changes nothing the second time)."""
    session.execute(delete(CrmEvent).where(CrmEvent.received_at < now - KEEP_EVENTS))
    rows = [
        {"team_id": team_id, "source": source, "event_id": i, "received_at": now}
        for i in dict.fromkeys(i[:EVENT_ID_MAX] for i in ids)
    ]
    if rows:
        statement = insert_for(session)(CrmEvent).on_conflict_do_nothing(
            index_elements=["team_id", "source", "event_id"]
        )
        session.execute(statement, rows)


def sync_state(session: Session, team_id: str, crm: str) -> CrmSync | None:
    return session.scalars(
        select(CrmSync).where(CrmSync.team_id == team_id, CrmSync.crm == crm)
    ).first()


def record_sync(
    session: Session,
    team_id: str,
    crm: str,
    now: datetime,
    *,
    synced_until: datetime | None = None,
    error: str | None = None,
) -> None:
    """A pass ended: how far it read (never moved back) and its error, if any."""
    state = sync_state(session, team_id, crm)
    if state is None:
        state = CrmSync(team_id=team_id, crm=crm)
        session.add(state)
    state.last_run_at = now
    state.last_error = error[:ERROR_MAX] if error else None
    if synced_until is not None and (
        state.synced_until is None or synced_until > state.synced_until
    ):
        state.synced_until = synced_until
    session.flush()


def sync_states(session: Session, team_id: str) -> list[CrmSync]:
    return list(session.scalars(select(CrmSync).where(CrmSync.team_id == team_id)))


def claim_sync(session: Session, team_id: str, crm: str, now: datetime, every: timedelta) -> bool:
    """Whether this process should run the pass due now (no other has in the last `every`):
    the claim is the pass's start time, taken under the row's lock."""
    state = session.scalars(
        select(CrmSync).where(CrmSync.team_id == team_id, CrmSync.crm == crm).with_for_update()
    ).first()
    if state is None:
        statement = insert_for(session)(CrmSync).on_conflict_do_nothing(
            index_elements=["team_id", "crm"]
        )
        added = session.execute(
            statement.returning(CrmSync.id), [{"team_id": team_id, "crm": crm, "last_run_at": now}]
        ).first()
        return added is not None
    if state.last_run_at is not None and now - state.last_run_at < every:
        return False
    state.last_run_at = now
    session.flush()
    return True
