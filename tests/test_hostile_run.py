"""The hostile-input run (`tests/hostile_run.py`): its instruments, and a smaller run.

The instruments are checked on inputs whose effect is known, so that a zero they report
means nothing was found, not that nothing was looked at. The slow test runs 100 inputs
per entry point against a real `baton run` (`bench/hostile.py` runs the full 1,000).
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.conftest import PG_URL
from tests.hostile_run import (
    Answer,
    Input,
    Tally,
    count_tracebacks,
    hostile_run,
    run_entry,
    table_rows,
    written,
)

LOG = """\
2027-01-04 INFO bot.runtime.runner: Baton is up
2027-01-04 ERROR bot.runtime.app: listener failed for block_actions
Traceback (most recent call last):
  File "bot/accounts.py", line 24, in load_account
    key = int(account_id)
ValueError: invalid literal for int() with base 10: '²'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "bot/listeners/actions.py", line 38, in explain
OverflowError: cannot convert float infinity to integer
2027-01-04 ERROR aiohttp.server: Error handling request
Traceback (most recent call last):
  File "aiohttp/web_protocol.py", line 1, in _handle_request
UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff
"""


def test_chained_tracebacks_count_once_with_their_last_exception() -> None:
    found = count_tracebacks(LOG.splitlines())
    assert found == [
        "OverflowError: cannot convert float infinity to integer",
        "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff",
    ]
    assert count_tracebacks(["all is well", "INFO no Traceback here"]) == []


def test_rows_written_counts_inserted_and_changed_rows(engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO workspaces (team_id, team_name, created_at) VALUES ('T1', 'a', :t)"),
            {"t": "2027-01-04 00:00:00"},
        )
    before = table_rows(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE workspaces SET team_name = 'b' WHERE team_id = 'T1'"))
        connection.execute(
            text("INSERT INTO workspaces (team_id, team_name, created_at) VALUES ('T2', 'c', :t)"),
            {"t": "2027-01-04 00:00:00"},
        )
    assert written(before, table_rows(engine)) == {"workspaces": 2}
    assert written(before, before) == {}


class QuietWorld:
    """Just enough of `World` for `run_entry`: the real database, nothing else moving."""

    def __init__(self, engine) -> None:  # noqa: ANN001
        self.engine = engine
        self.log = type("Log", (), {"lines": []})()

    async def rows(self) -> dict[str, set[str]]:
        return table_rows(self.engine)

    async def settle(self) -> None:
        return None


async def test_a_refused_input_that_writes_is_counted_even_beside_accepted_ones(engine) -> None:
    """The attribution the run relies on: a chunk of refusals adds its rows; in a chunk
    with accepted inputs, the refused ones are re-sent one by one and only theirs count."""
    stamp = iter(range(10_000))

    def input_(accepted: bool, writes: bool) -> Input:
        async def send() -> Answer:
            if writes:
                with engine.begin() as connection:
                    connection.execute(
                        text(
                            "INSERT INTO workspaces (team_id, team_name, created_at) "
                            "VALUES (:id, 'x', '2027-01-04 00:00:00')"
                        ),
                        {"id": f"T{next(stamp)}"},
                    )
            return Answer(202 if accepted else 422, "")

        return Input("a test input", send, lambda a: a.status == 202, likely_accepted=accepted)

    tally = Tally("test")
    inputs = [input_(False, False)] * 3 + [input_(False, True)]
    await run_entry(QuietWorld(engine), tally, inputs)  # type: ignore[arg-type]
    assert (tally.tried, tally.rows_on_rejected) == (4, 1)

    mixed = Tally("mixed")
    inputs = [input_(True, True), input_(False, True), input_(False, False)]
    for item in inputs:
        item.likely_accepted = True  # one chunk: accepted and refused together
    await run_entry(QuietWorld(engine), mixed, inputs)  # type: ignore[arg-type]
    assert (mixed.tried, mixed.rows_on_rejected) == (3, 1)


@pytest.mark.slow
async def test_a_hundred_hostile_inputs_per_entry_point_find_nothing() -> None:
    """Against a real `baton run` (PostgreSQL when BATON_TEST_DATABASE_URL is set)."""
    report = await hostile_run(per_entry=100, database_url=PG_URL)
    assert report.clean, report.render()
