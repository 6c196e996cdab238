"""`baton seed`: a year of made-up history that every number of `/baton stats` reads, an
alert in force, the same for the same seed, refused on a real book, and never a Slack
message owed for it (a real tick on the simulated clock sends nothing)."""

from __future__ import annotations

import argparse
import time
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.platform.settings import load_settings
from bot.runtime.runner import make_services
from bot.stats.answer import stats_lines
from bot.stats.seed import run_seed, seed_book
from bot.stats.seed_args import add_parser
from flows.playbook import load_playbook
from flows.seed import is_seeded, plan_book
from flows.stats import Measure, Rate, Tally, alerts, compute_stats
from flows.stats_args import StatsQuery
from storage.accounts import create_account
from storage.models import Account, OutboxMessage, OutboxStatus
from storage.stats import stats_facts
from tests.helpers import run_until

NOW = datetime(2027, 1, 4, 15, tzinfo=UTC)
TEAM = "T0SEEDED"


def _settings(database_url: str):  # noqa: ANN202
    return load_settings(
        env_file=None,
        slack_bot_token="xoxb-seed-test",
        slack_signing_secret="s" * 32,
        slack_api_url="http://127.0.0.1:9/api/",
        database_url=database_url,
    )


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="baton")
    add_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["seed", *argv])


def _numbers(stats):  # noqa: ANN001, ANN202
    """Every number's sample size: the plain ones by name, the grouped ones summed."""
    found = {}
    for item in fields(stats):
        value = getattr(stats, item.name)
        if isinstance(value, Rate | Measure | Tally):
            found[item.name] = value.n
        elif isinstance(value, dict):
            found[item.name] = sum(v if isinstance(v, int) else v.n for v in value.values())
    return found


async def test_200_accounts_give_every_number_and_an_alert(database_url: str) -> None:
    services = make_services(_settings(database_url), lambda: NOW)
    try:
        seeded = await seed_book(services, 200, 1, TEAM)
        assert seeded.accounts == 200
        facts = await services.db.run(stats_facts, TEAM, NOW - timedelta(days=90), NOW)
    finally:
        services.engine.dispose()
    stats = compute_stats(facts, services.settings.timezone)
    numbers = _numbers(stats)
    assert len(numbers) == 18
    assert {name: n for name, n in numbers.items() if n == 0} == {}, numbers
    assert stats.icp_ratio.value is not None
    assert {"A", "B", "C", "D"} <= set(stats.renewal_by_model)
    found = alerts(stats)
    assert found, stats.churn_reasons
    assert "expectation_mismatch" in {a.key for a in found}


async def test_baton_stats_shows_the_seeded_numbers(database_url: str) -> None:
    services = make_services(_settings(database_url), lambda: NOW)
    try:
        await seed_book(services, 200, 1, TEAM)
        shown = "\n".join(await stats_lines(services, TEAM, StatsQuery()))
    finally:
        services.engine.dispose()
    assert "n=0" not in shown and "expectation" in shown.lower(), shown


def test_the_same_seed_gives_the_same_history() -> None:
    steps = load_playbook()
    first = plan_book(300, 7, NOW, steps)
    assert plan_book(300, 7, NOW, steps) == first
    assert plan_book(300, 8, NOW, steps) != first
    assert all(is_seeded(a.crm_id) for a in first.accounts)
    moments = [
        m
        for a in first.accounts
        for m in (
            a.closed_at,
            a.packet_completed_at,
            a.first_value_at,
            a.rated_at,
            a.churned_at,
            *(c.at for c in a.checkins),
            *(m.nudged_at for m in a.milestones),
            *(m.done_at for m in a.milestones),
            *(m.escalated_at for m in a.milestones),
        )
        if m is not None
    ]
    assert max(moments) < NOW
    assert min(a.closed_at for a in first.accounts) > NOW - timedelta(days=460)


@pytest.mark.parametrize("book", ["0", "20001", "many"])
def test_the_book_is_from_1_to_20000(book: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        _args("--book", book)
    assert exit_.value.code == 2
    assert "--book" in capsys.readouterr().err


def test_the_database_is_identical_for_a_seed(tmp_path) -> None:  # noqa: ANN001
    def dump(url: str) -> list:
        services = make_services(_settings(url), lambda: NOW)
        try:
            assert (
                run_seed(
                    _args("--book", "60", "--seed", "3", "--team", TEAM),
                    services.settings,
                    lambda _s: services,
                )
                == 0
            )
        finally:
            services.engine.dispose()
        services = make_services(_settings(url), lambda: NOW)
        try:
            return services.db.run_sync(
                lambda s: [
                    tuple(r)
                    for r in s.execute(
                        select(OutboxMessage.dedupe_key, OutboxMessage.sent_at).order_by(
                            OutboxMessage.dedupe_key
                        )
                    )
                ]
            )
        finally:
            services.engine.dispose()

    from tests.databases import migrated

    urls = []
    for name in ("a", "b"):
        url = f"sqlite:///{tmp_path / name}.db"
        migrated(url)
        urls.append(url)
    first = dump(urls[0])
    assert first and dump(urls[1]) == first


def test_a_second_seed_and_a_real_book_are_refused(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(database_url)

    def seed(*argv: str) -> int:
        return run_seed(_args(*argv), settings, lambda s: make_services(s, lambda: NOW))

    assert seed("--book", "20", "--team", TEAM) == 0
    assert "seeded 20 accounts" in capsys.readouterr().out
    assert seed("--book", "20") == 2
    err = capsys.readouterr().err
    assert err.startswith("baton: workspace T0SEEDED is seeded already (20 accounts)")
    assert err.count(".") == 1  # one sentence
    assert seed("--book", "5", "--team", "T0OTHER") == 2
    assert "is not a workspace Baton is in" in capsys.readouterr().err

    services = make_services(settings, lambda: NOW)
    try:
        services.db.run_sync(
            create_account,
            {
                "team_id": TEAM,
                "crm_id": "D-1",
                "name": "A real customer",
                "arr": 1000,
                "contract_start": NOW.date(),
                "renewal_date": NOW.date() + timedelta(days=365),
                "ae_email": "ae@example.test",
                "csm_email": "csm@example.test",
                "closed_at": NOW,
            },
        )
        before = services.db.run_sync(lambda s: s.scalar(select(func.count()).select_from(Account)))
    finally:
        services.engine.dispose()
    assert seed("--book", "20") == 2
    err = capsys.readouterr().err
    assert "has 1 real accounts: seeding is only for a demo or trial database" in err
    services = make_services(settings, lambda: NOW)
    try:
        assert (
            services.db.run_sync(lambda s: s.scalar(select(func.count()).select_from(Account)))
            == before
        )
    finally:
        services.engine.dispose()


def test_a_fresh_database_needs_a_team(database_url: str, capsys) -> None:  # noqa: ANN001
    settings = _settings(database_url)
    code = run_seed(_args("--book", "3"), settings, lambda s: make_services(s, lambda: NOW))
    assert code == 2
    assert capsys.readouterr().err == (
        "baton: there is no workspace yet: give the team id to seed with --team T.\n"
    )


async def test_a_real_tick_owes_nothing_for_seeded_accounts(sim_bot, clock, sandbox) -> None:  # noqa: ANN001
    services = sim_bot.services
    team = sandbox.workspace.team_id
    await seed_book(services, 200, 1, team)

    def outbox(session):  # noqa: ANN001, ANN202
        return session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()

    seeded = dict(await services.db.run(outbox))
    assert set(seeded) == {OutboxStatus.SENT} and seeded[OutboxStatus.SENT] > 200
    posts_before = len(sandbox.calls_of("chat.postMessage"))
    await run_until(sim_bot, clock, clock() + timedelta(days=9))
    assert dict(await services.db.run(outbox)) == seeded
    assert len(sandbox.calls_of("chat.postMessage")) == posts_before
    assert not sandbox.calls_of("conversations.create")


async def test_2000_accounts_seed_in_reasonable_time(database_url: str) -> None:
    services = make_services(_settings(database_url), lambda: NOW)
    try:
        started = time.monotonic()
        seeded = await seed_book(services, 2000, 1, TEAM)
        elapsed = time.monotonic() - started
        facts = await services.db.run(stats_facts, TEAM, NOW - timedelta(days=90), NOW)
    finally:
        services.engine.dispose()
    print(f"\nseeded {seeded.accounts} accounts in {elapsed:.1f} s")
    assert alerts(compute_stats(facts, services.settings.timezone))
