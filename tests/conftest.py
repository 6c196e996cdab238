"""Shared fixtures: a fresh database, the sandbox Slack, and the real bot served over HTTP.

Every test runs on SQLite; with BATON_TEST_DATABASE_URL set (CI sets it) every test runs
on PostgreSQL instead, each in a schema of its own. Each test's database is a copy of one
migrated in this process (tests/databases.py), so pytest-xdist's workers share nothing.
"""

from __future__ import annotations

import gc
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest

from bot.platform.clock import SimulatedClock
from bot.platform.scopes import granted_scopes
from bot.platform.settings import Settings, load_settings
from bot.runtime.runner import BotServer
from bot.sandbox import SandboxWorkspace, SlackDriver, SlackSandbox, User
from tests.databases import scratch_database, template
from tests.engines import share_compiled_statements
from tests.helpers import PG_URL

# Property tests: the same examples on every run (CI must not flake), few enough to stay
# fast. BATON_HYPOTHESIS_PROFILE=thorough explores ten times more, with a fresh seed.
hypothesis.settings.register_profile(
    "baton", max_examples=200, deadline=None, derandomize=True, database=None
)
hypothesis.settings.register_profile(
    "thorough", max_examples=2000, deadline=None, derandomize=False, database=None
)
hypothesis.settings.load_profile(os.environ.get("BATON_HYPOTHESIS_PROFILE", "baton"))
share_compiled_statements()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow runs first: in parallel (`make test`), no process is left to finish one
    alone at the end while the others have nothing left to do."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What importing and collecting made lives as long as the process: out of the cyclic
    collector's sight, its full passes stop walking it again and again."""
    gc.collect()
    gc.freeze()


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (temporary files)'}"


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """This process's migrated database, made when a test first asks for a database."""
    with template(PG_URL, tmp_path_factory.mktemp("template")) as made:
        yield made


@pytest.fixture
def database_url(database_template, tmp_path: Path) -> Iterator[str]:  # noqa: ANN001
    """A database of the test's own, at the latest migration."""
    with database_template.copy(tmp_path) as url:
        yield url


@pytest.fixture
def blank_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of the test's own with nothing in it, for tests of the migrations."""
    with scratch_database(PG_URL, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator:
    from storage.db import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def db(engine):  # noqa: ANN001, ANN201
    """Units of work on the test's database: `db.run_sync(storage_fn, ...)`."""
    from storage.db import Database

    return Database(engine)


@dataclass
class People:
    ae: User
    csm: User
    manager: User


@pytest.fixture
def workspace() -> SandboxWorkspace:
    return SandboxWorkspace(bot_scopes=granted_scopes())


@pytest.fixture
def people(workspace: SandboxWorkspace) -> People:
    return People(
        ae=workspace.add_user("ana", "Ana Ruiz", "ana@example.test", "America/New_York"),
        csm=workspace.add_user("chen", "Chen Wei", "chen@example.test", "Europe/London"),
        manager=workspace.add_user(
            "maya", "Maya Patel", "maya@example.test", "America/Los_Angeles"
        ),
    )


@pytest.fixture
async def sandbox(workspace: SandboxWorkspace) -> AsyncIterator[SlackSandbox]:
    sandbox = SlackSandbox(workspace)
    await sandbox.start()
    yield sandbox
    await sandbox.stop()


@pytest.fixture
def signing_secret() -> str:
    return secrets.token_hex(16)


@pytest.fixture
def settings(sandbox: SlackSandbox, database_url: str, signing_secret: str) -> Settings:
    return load_settings(
        env_file=None,
        slack_bot_token=sandbox.workspace.bot_token,
        slack_signing_secret=signing_secret,
        slack_api_url=sandbox.api_url,
        database_url=database_url,
        baton_webhook_secret="whsec-test",
    )


def answers_when_done(request: pytest.FixtureRequest) -> bool:
    """Bolt answers Slack once the listeners are done (`process_before_response=True`, as
    bolt-python's own tests run): when a driver call returns, the listener's effects are
    all there. A test about answering before the work is done (Slack's 3 seconds while
    Slack rate-limits Baton) runs Bolt as `baton run` does, with `acks_before_done`."""
    return request.node.get_closest_marker("acks_before_done") is None


@pytest.fixture
async def bot(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[BotServer]:
    server = BotServer(settings, ticker=False, process_before_response=answers_when_done(request))
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


def assert_slack_saw_no_errors(request: pytest.FixtureRequest, driver: SlackDriver) -> None:
    """What a person would have seen as an error fails the test: an answer slower than
    Slack's 3 seconds, or a reply / response_url post / modal answer that breaks a rule.
    A test that means to see them says so with the markers `late_acks_expected` and
    `rejected_replies_expected`."""
    if not request.node.get_closest_marker("late_acks_expected"):
        assert not driver.late_acks, f"answered after Slack's 3 seconds: {driver.late_acks}"
    if not request.node.get_closest_marker("rejected_replies_expected"):
        rejected = driver.sandbox.rejected_replies
        assert not rejected, f"Slack would have refused these answers: {rejected}"


@pytest.fixture
async def driver(
    request: pytest.FixtureRequest, sandbox: SlackSandbox, bot: BotServer, signing_secret: str
) -> AsyncIterator[SlackDriver]:
    driver = SlackDriver(sandbox, bot.url, signing_secret)
    yield driver
    await driver.close()
    assert_slack_saw_no_errors(request, driver)


# --- a bot on a simulated clock (the sandbox lives in the same simulated time) -----------
MONDAY_10_NY = datetime(2027, 1, 4, 15, tzinfo=UTC)


@pytest.fixture
def clock(sandbox: SlackSandbox) -> SimulatedClock:
    clock = SimulatedClock(MONDAY_10_NY)
    sandbox.workspace.use_clock(clock)
    return clock


@pytest.fixture
async def sim_bot(
    request: pytest.FixtureRequest, settings: Settings, clock: SimulatedClock
) -> AsyncIterator[BotServer]:
    server = BotServer(
        settings, clock, ticker=False, process_before_response=answers_when_done(request)
    )
    await server.start(host="127.0.0.1", port=0)
    yield server
    await server.stop()


@pytest.fixture
async def sim_driver(request, sandbox, sim_bot, signing_secret) -> AsyncIterator[SlackDriver]:
    driver = SlackDriver(sandbox, sim_bot.url, signing_secret)
    yield driver
    await driver.close()
    assert_slack_saw_no_errors(request, driver)
