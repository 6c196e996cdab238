"""Queries on workspaces (Slack teams) Baton is installed in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select, update

from storage.db import changed, session_scope, upsert
from storage.models import Workspace


def remember_workspace(
    engine: Engine, team_id: str, team_name: str, bot_user_id: str | None, now: datetime
) -> None:
    upsert(
        engine,
        Workspace,
        {"team_id": team_id, "team_name": team_name, "bot_user_id": bot_user_id, "created_at": now},
        ["team_id"],
    )


def workspace_ids(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        return list(session.scalars(select(Workspace.team_id)))


def pause_workspace(engine: Engine, team_id: str, error: str, now: datetime) -> bool:
    """Slack refused the workspace's token: hold its delivery (True if newly paused)."""
    statement = (
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.paused_at.is_(None))
        .values(paused_at=now, paused_error=error[:64], pause_checked_at=now)
    )
    return changed(engine, statement)


def resume_workspace(engine: Engine, team_id: str) -> bool:
    statement = (
        update(Workspace)
        .where(Workspace.team_id == team_id, Workspace.paused_at.is_not(None))
        .values(paused_at=None, paused_error=None, pause_checked_at=None)
    )
    return changed(engine, statement)


def note_pause_checked(engine: Engine, team_id: str, now: datetime) -> None:
    with session_scope(engine) as session:
        session.execute(
            update(Workspace).where(Workspace.team_id == team_id).values(pause_checked_at=now)
        )


def paused_workspaces(engine: Engine) -> list[Workspace]:
    """The workspaces whose token Slack refuses (a handful at most; usually none)."""
    with session_scope(engine) as session:
        return list(session.scalars(select(Workspace).where(Workspace.paused_at.is_not(None))))


def get_workspace(engine: Engine, team_id: str) -> Workspace | None:
    with session_scope(engine) as session:
        return session.get(Workspace, team_id)
