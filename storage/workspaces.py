"""Queries on workspaces (Slack teams) Baton is installed in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlmodel import Session

from storage.db import changed, upsert
from storage.models import Workspace


def remember_workspace(
    session: Session, team_id: str, team_name: str, bot_user_id: str | None, now: datetime
) -> None:
    upsert(
        session,
        Workspace,
        {"team_id": team_id, "team_name": team_name, "bot_user_id": bot_user_id, "created_at": now},
        ["team_id"],
    )


def workspace_ids(session: Session) -> list[str]:
    return list(session.scalars(select(Workspace.team_id)))


def pause_workspace(session: Session, team_id: str, error: str, now: datetime) -> bool:
    """Slack refused the workspace's token: hold its delivery (True if newly paused)."""
    statement = (
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.paused_at.is_(None))
        .values(paused_at=now, paused_error=error[:64], pause_checked_at=now)
    )
    return changed(session, statement)


def resume_workspace(session: Session, team_id: str) -> bool:
    statement = (
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.paused_at.is_not(None))
        .values(paused_at=None, paused_error=None, pause_checked_at=None)
    )
    return changed(session, statement)


def note_pause_checked(session: Session, team_id: str, now: datetime) -> None:
    session.execute(
        update(Workspace).where(Workspace.team_id == team_id).values(pause_checked_at=now)
    )


def paused_workspaces(session: Session) -> list[Workspace]:
    """The workspaces whose token Slack refuses (a handful at most; usually none)."""
    return list(session.scalars(_PAUSED))


_PAUSED = select(Workspace).where(Workspace.paused_at.is_not(None))  # built once: no parameters


def get_workspace(session: Session, team_id: str) -> Workspace | None:
    return session.get(Workspace, team_id)
