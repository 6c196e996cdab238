"""Baton serves the members of its workspace only.

Guests and people from other organisations (Slack Connect) may see an account's shared
channel, and Slack may let them type `/baton` or press a button there. Everything Baton
answers (owners, ARR, health, packets) is internal, so their commands, clicks and forms
get one sentence and nothing else. Who someone is comes from the people table (refreshed
daily) or, for someone new, from users.info within a short budget (then remembered in the
process for a day).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError

from bot.people.directory import MAX_AGE, is_outsider
from bot.platform.services import Services
from storage.people import get_person

log = logging.getLogger(__name__)
NOT_FOR_OUTSIDERS = "Baton answers only members of this workspace."
UNSURE = "Slack did not tell me in time who you are; please try again in a moment."
LOOKUP_BUDGET_S = 1.0  # Slack waits 3 seconds for the answer
MEMO = "members"
SERVED = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action")


class MembersOnly(AsyncMiddleware):
    def __init__(self, services: Services) -> None:
        self.services = services

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002 (Bolt's keyword)
    ) -> BoltResponse | None:
        body, context = req.body, req.context
        command = "command" in body
        if not (command or body.get("type") in SERVED) or not context.user_id:
            return await next()
        member = await self._is_member(str(context.team_id or ""), context.user_id)
        if member:
            return await next()
        text = NOT_FOR_OUTSIDERS if member is False else UNSURE
        log.info("refused a Slack request from %s: %s", context.user_id, text)
        if command:
            return BoltResponse(status=200, body={"response_type": "ephemeral", "text": text})
        return BoltResponse(status=200, body="")

    async def _is_member(self, team_id: str, user_id: str) -> bool | None:
        """True for a member, False for an outsider, None when Slack can't say in time."""
        services = self.services
        now = services.clock()
        known = await services.db.run(get_person, team_id, user_id)
        if known is not None and now - known.refreshed_at < MAX_AGE:
            return not known.outsider
        # Someone new: asked of Slack, remembered in this process only (nothing is written
        # for a request that may yet be refused).
        seen: dict[tuple[str, str], tuple[bool, datetime]] = services.memo.setdefault(MEMO, {})
        cached = seen.get((team_id, user_id))
        if cached is not None and now - cached[1] < MAX_AGE:
            return cached[0]
        try:
            response = await asyncio.wait_for(
                services.sender.users_info(user=user_id), LOOKUP_BUDGET_S
            )
        except (SlackApiError, TimeoutError) as exc:
            log.warning("could not look up %s before answering: %s", user_id, exc)
            return None if known is None else not known.outsider
        member = not is_outsider(response["user"], team_id)
        seen[(team_id, user_id)] = (member, now)
        return member
