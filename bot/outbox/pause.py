"""A workspace whose token Slack refuses (revoked, account inactive) is paused: nothing is
sent or planned for it, nothing owed is marked failed, and every few minutes Baton asks
Slack whether the token works again. When it does, everything owed flows as before."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.platform.services import Services
from storage.models import Workspace
from storage.workspaces import note_pause_checked, paused_workspaces, resume_workspace

log = logging.getLogger(__name__)
CHECK_EVERY = timedelta(minutes=5)


async def paused_teams(
    services: Services, now: datetime, workspaces: list[Workspace] | None = None
) -> set[str]:
    """The workspaces still paused, after asking Slack about those due for a look (of
    `workspaces`, the paused ones as just read; by default read now)."""
    paused = set()
    if workspaces is None:
        workspaces = await services.db.run(paused_workspaces)
    for workspace in workspaces:
        checked = workspace.pause_checked_at
        recent = checked is not None and now - checked < CHECK_EVERY
        if recent or not await _token_works(services, workspace.team_id, now):
            paused.add(workspace.team_id)
    return paused


async def _token_works(services: Services, team_id: str, now: datetime) -> bool:
    try:
        identity = await services.client.auth_test()
    except SlackApiError as exc:
        log.warning("team %s is still paused: Slack said %s", team_id, exc.response.get("error"))
        await services.db.run(note_pause_checked, team_id, now)
        return False
    if identity.get("team_id") != team_id:  # this process's token is another workspace's
        await services.db.run(note_pause_checked, team_id, now)
        return False
    await services.db.run(resume_workspace, team_id)
    log.info("team %s: Slack accepts the token again; delivery resumes", team_id)
    return True
