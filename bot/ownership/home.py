"""The App Home dashboard: my accounts by urgency, my overdue items, packets I owe, and
for managers their team's summary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.ownership.answers import reach_of
from bot.ownership.standing import Standing, standings, windows_now
from bot.platform.services import Services
from storage.models import AccountStatus, Coverage
from storage.ownership import covered_by
from storage.portfolio import (
    Scope,
    count_accounts,
    count_renewing_between,
    overdue_milestones,
    pending_packets,
    red_accounts,
    scoped_accounts,
)

HOME_ACCOUNTS_READ = 1000  # the most urgent this many are sorted and paged


@dataclass(frozen=True)
class TeamSummary:
    label: str
    accounts: int
    overdue: int
    at_risk: int
    pending: int
    renewing_90: int
    sections: tuple[tuple[str, list[str]], ...] = ()  # what other features add (team health)


@dataclass(frozen=True)
class Dashboard:
    user_id: str
    mine: list[Standing]  # most urgent first
    total: int
    covering: list[Coverage]
    windows: dict[str, Coverage]
    packets_owed: list[Standing]
    team: TeamSummary | None

    @property
    def people(self) -> frozenset[str]:
        """The user and everyone they are covering for."""
        return frozenset({self.user_id, *(c.user_id for c in self.covering)})


def _read(
    session: Session, services: Services, user_id: str, team_id: str, now: datetime, reach
) -> Dashboard:  # noqa: ANN001
    covering = covered_by(session, team_id, user_id, now)
    people = (user_id, *(c.user_id for c in covering))
    scope = Scope(team_id, holders=people)
    accounts = scoped_accounts(session, scope, limit=HOME_ACCOUNTS_READ)
    mine = sorted(standings(session, services, accounts, now), key=lambda s: s.urgency)
    owed = [
        s
        for s in mine
        if s.account.status == AccountStatus.HANDOFF_PENDING and s.account.ae_user_id in people
    ]
    team = None
    if reach is not None:
        first = services.today(now)
        team = TeamSummary(
            reach.label,
            count_accounts(session, reach.scope),
            len(overdue_milestones(session, reach.scope, first, now, limit=1000)),
            len(red_accounts(session, reach.scope, limit=1000)),
            len(pending_packets(session, reach.scope, limit=1000)),
            count_renewing_between(session, reach.scope, first, first + timedelta(days=90)),
            tuple(
                section
                for add in services.hooks.home_sections
                if (section := add(session, services, team_id, now))
            ),
        )
    return Dashboard(
        user_id,
        mine,
        count_accounts(session, scope),
        covering,
        windows_now(session, team_id, now),
        owed,
        team,
    )


async def dashboard(services: Services, team_id: str, user_id: str) -> Dashboard:
    reach = await reach_of(services, team_id, user_id)
    return await services.db.run(
        _read, services, user_id, team_id, services.clock(), reach if reach.manager else None
    )
