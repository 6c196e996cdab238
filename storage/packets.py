"""Queries on handoff packets: saving a part (versioned), drafts, history."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import Session

from flows.packet import changes
from storage.accounts import locked_account
from storage.db import require_write_lock, upsert
from storage.models import AccountStatus, Packet, PacketDraft, PacketVersion


@dataclass(frozen=True)
class SavedPart:
    version: int
    changed: dict[str, list[Any]]
    answers: dict[str, Any]
    completed_now: bool  # this save closed the gate (true for exactly one save)


def get_packet(session: Session, team_id: str, account_id: int) -> Packet | None:
    return session.scalars(
        select(Packet).where(Packet.team_id == team_id, Packet.account_id == account_id)
    ).first()


def packets_of(
    session: Session, accounts: Collection[tuple[str, int]]
) -> dict[tuple[str, int], Packet]:
    """`get_packet` for many accounts at once, by (team, account id)."""
    if not accounts:
        return {}
    statement = select(Packet).where(
        Packet.team_id.in_({team for team, _ in accounts}),
        Packet.account_id.in_([account_id for _, account_id in accounts]),
    )
    wanted = set(accounts)
    return {
        (p.team_id, p.account_id): p
        for p in session.scalars(statement)
        if (p.team_id, p.account_id) in wanted
    }


def save_part(
    session: Session,
    team_id: str,
    account_id: int,
    part: str,
    values: dict[str, Any],
    by: str,
    now: datetime,
    is_complete: Callable[[dict[str, Any]], bool],
) -> SavedPart:
    """Merge one part's answers into the packet, record the version, close the gate if done.

    All in one transaction holding the account's row (BEGIN IMMEDIATE on SQLite, FOR
    UPDATE on PostgreSQL), so two submissions at once cannot both "complete" it.
    """
    require_write_lock(session)
    account = locked_account(session, team_id, account_id)
    packet = session.scalars(
        select(Packet).where(Packet.team_id == team_id, Packet.account_id == account_id)
    ).first()
    if packet is None:
        packet = Packet(team_id=team_id, account_id=account_id, answers={}, version=0)
        session.add(packet)
    before = dict(packet.answers)
    after = {**before, **values}
    changed = changes(before, after)
    if changed:
        packet.version += 1
        packet.answers = after
        session.add(
            PacketVersion(
                team_id=team_id,
                account_id=account_id,
                version=packet.version,
                part=part,
                edited_by=by,
                edited_at=now,
                changes=changed,
            )
        )
    setattr(packet, f"{part}_part_by", by)
    setattr(packet, f"{part}_part_at", now)
    completed_now = account.packet_completed_at is None and is_complete(after)
    if completed_now:
        account.packet_completed_at = now
        account.status = AccountStatus.HANDED_OFF
        account.updated_at = now
    if "retention_model" in values and values["retention_model"]:
        account.retention_model = str(values["retention_model"])
    session.execute(
        delete(PacketDraft).where(
            PacketDraft.team_id == team_id,
            PacketDraft.account_id == account_id,
            PacketDraft.user_id == by,
            PacketDraft.part == part,
        )
    )
    return SavedPart(packet.version, changed, after, completed_now)


def versions(session: Session, team_id: str, account_id: int) -> list[PacketVersion]:
    return list(
        session.scalars(
            select(PacketVersion)
            .where(PacketVersion.team_id == team_id, PacketVersion.account_id == account_id)
            .order_by(PacketVersion.version)
        )
    )


def save_draft(
    session: Session,
    team_id: str,
    account_id: int,
    user_id: str,
    part: str,
    values: dict[str, Any],
    now: datetime,
) -> None:
    upsert(
        session,
        PacketDraft,
        {
            "team_id": team_id,
            "account_id": account_id,
            "user_id": user_id,
            "part": part,
            "values": values,
            "updated_at": now,
        },
        ["team_id", "account_id", "user_id", "part"],
    )


def get_draft(
    session: Session, team_id: str, account_id: int, user_id: str, part: str
) -> dict[str, Any] | None:
    draft = session.scalars(
        select(PacketDraft).where(
            PacketDraft.team_id == team_id,
            PacketDraft.account_id == account_id,
            PacketDraft.user_id == user_id,
            PacketDraft.part == part,
        )
    ).first()
    return dict(draft.values) if draft else None
