"""The last look at a claimed message before it goes, through what the features registered:
a message written at send time is composed from the data as it is now, then each route may
send it elsewhere (a backup, a manager), then each guard may hold it (a channel shared
outside the company)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from bot.outbox.deliver import Guard, Route
from bot.platform.services import Services
from storage.outbox import Claim


def outbound_guard(services: Services) -> Guard:
    async def guard(claim: Claim, now: datetime) -> str | None:
        for held in services.hooks.guards:
            reason = await held(services, claim, now)
            if reason is not None:
                return reason
        return None

    return guard


def outbound_route(services: Services) -> Route:
    def route(session: Session, claim: Claim, now: datetime) -> Claim | str | None:
        compose = services.hooks.compose.get(claim.kind)
        written = compose(session, services, claim, now) if compose is not None else None
        if isinstance(written, str):
            return written
        current = written or claim
        for step in services.hooks.routes:
            rerouted = step(services, session, current, now)
            if rerouted is not None:
                return rerouted
        return written

    return route
