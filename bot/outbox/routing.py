"""The last look at a claimed message before it goes: a digest is written from the data as
it is now, anything owed to someone away goes to their backup, anything owed to someone
deactivated in Slack goes to the account's manager, and nothing internal goes to an account
channel shared outside the company."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.channels.internal import hold_reason
from bot.outbox.deliver import Guard, Route
from bot.ownership import digest
from bot.people.cover import covered_route, deactivated_route
from bot.platform.services import Services
from storage.outbox import Claim


def outbound_guard(services: Services) -> Guard:
    async def guard(claim: Claim, now: datetime) -> str | None:
        return await hold_reason(services, claim, now)

    return guard


def outbound_route(services: Services) -> Route:
    def route(session: Session, claim: Claim, now: datetime) -> Claim | str | None:
        written = (
            digest.compose(session, services, claim, now) if claim.kind == digest.KIND else None
        )
        if isinstance(written, str):
            return written
        current = written or claim
        covered = covered_route(session, current, now)
        if covered is not None:
            return covered
        return deactivated_route(session, current, services.managers) or written

    return route
