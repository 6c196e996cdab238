"""Queries on workspaces (Slack teams) Baton is installed in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from storage.db import session_scope, upsert
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
