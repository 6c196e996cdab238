"""What a CRM door answers, and the parts every door shares."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.platform.http_input import BadRequest, json_value, utf8
from bot.platform.services import Services
from storage.workspaces import workspace_ids


@dataclass(frozen=True)
class DoorAnswer:
    status: int
    body: Any  # JSON, or bytes of another content type
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def refused(status: int, message: str, **headers: str) -> DoorAnswer:
    return DoorAnswer(status, {"ok": False, "error": message}, headers=headers)


def now_ms() -> int:
    """Signatures are checked against the real time (a simulated clock must not widen the
    five-minute window)."""
    return int(time.time() * 1000)


def json_body(raw: bytes) -> Any | DoorAnswer:
    try:
        return json_value(utf8(raw))
    except BadRequest as bad:
        return refused(bad.status, bad.message)


async def door_team(services: Services, asked: str | None) -> str | DoorAnswer:
    """The workspace a CRM's deals go to: `?team_id=` on the door's URL, or the only one."""
    teams = await services.db.run(workspace_ids)
    if asked:
        if asked in teams:
            return asked
        return refused(422, "team_id is not a workspace Baton is installed in.")
    if len(teams) == 1:
        return teams[0]
    if not teams:
        return refused(503, "Baton is not installed in a Slack workspace yet; install it first.")
    return refused(
        422, "Baton is installed in several workspaces: add ?team_id=T… to the door's URL."
    )
