"""1,000 owed messages through a storm of 5xx, 429s, posts that fail after landing, held
responses and failing history reads: every one ends up in Slack exactly once."""

import pytest

from bench.storm import run_storm, storm_services
from bot.runtime.runner import make_services


@pytest.mark.slow
async def test_a_slack_storm_loses_nothing_and_sends_nothing_twice(
    engine, sandbox, clock, settings
) -> None:
    services = storm_services(make_services(settings, clock), sandbox, timeout_s=0.25)
    try:
        result = await run_storm(services, sandbox, clock, messages=1000)
    finally:
        services.engine.dispose()
    assert sum(result.faults.values()) > 300  # it was a storm
    assert any("after posting" in kind for kind in result.faults)
    assert any("held" in kind for kind in result.faults)
    assert result.failed_ticks == 0
    assert (result.lost, result.duplicated) == (0, 0)
    assert result.sent_once == result.owed == 1000
    assert result.rows_wrong == 0  # every row is `sent`, with the ts Slack has
