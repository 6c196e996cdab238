"""Baton introduces itself to each person once, however often it is asked to."""

from __future__ import annotations

from bot.people.introductions import introduce
from bot.runtime.runner import BotServer
from bot.sandbox import SlackSandbox
from flows.roles import Role
from storage.outbox import count_by_status


async def test_each_person_is_introduced_once(
    bot: BotServer,
    sandbox: SlackSandbox,
    people,  # noqa: ANN001
) -> None:
    services, team = bot.services, sandbox.workspace.team_id
    members = [(people.ae.id, Role.AE), (people.csm.id, Role.CSM)]
    assert await introduce(services, services.client, team, members) == 2
    assert await introduce(services, services.client, team, members) == 0  # owed already
    assert services.db.run_sync(count_by_status, team).get("pending") == 2
