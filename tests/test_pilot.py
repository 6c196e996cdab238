"""`/baton pilot`: a retention-model pilot started through the real app on real rows, the
cohort compared with the rest (the same numbers as compute_stats on the filtered facts),
who may start one, what bad or hostile words get, and the report's section."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from sqlalchemy import func, select

from bot.runtime.runner import BotServer
from bot.sandbox import SandboxWorkspace, SlackDriver
from bot.stats import figures
from bot.stats.pilot import REFUSED_START, REFUSED_VIEW, since
from bot.stats.report import render_report, write_report
from flows.pilot import (
    MIN_GROUP,
    Comparison,
    Group,
    ListPilots,
    ShowPilot,
    StartPilot,
    parse_pilot,
    split_accounts,
    warnings,
)
from flows.retention import RetentionModel
from flows.stats import Measure, Rate, Stats, compute_stats, filter_facts
from storage.accounts import account_by_crm
from storage.db import session_scope
from storage.models import Account, OwnershipEvent, Pilot, PilotAccount
from storage.pilots import pilot_account_ids, pilot_named
from storage.renewals import record_churn
from storage.stats import stats_facts
from tests.conftest import People
from tests.helpers import HOSTILE, account_channel, ask, closed_won, deal
from tests.nasty import hostile_text, one_sentence

BOOK = {"D-100": "Acme Robotics", "D-101": "Globex", "D-102": "Initech", "D-103": "Umbrella"}


# --- reading the words (pure) ----------------------------------------------------------------
def test_accounts_are_separated_by_commas_and_channels_by_spaces() -> None:
    typed = 'Acme Robotics, globex ,<#C0AB|acct-initech> #acct-hooli, "Umbrella, Inc."'
    assert split_accounts(typed) == (
        "Acme Robotics",
        "globex",
        "<#C0AB|acct-initech>",
        "#acct-hooli",
        "Umbrella, Inc.",
    )
    assert split_accounts("acme, acme,") == ("acme",)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("start q3 B", "I need a name, a retention model and the accounts"),
        ("start q3 E acme", "“E” is not a retention model"),
        ("start start B acme", "“start” is a word of the command"),
        ("start <!here> B acme", "A pilot's name is 1 to 40 letters"),
        ("start " + "x" * 41 + " B acme", "A pilot's name is 1 to 40 letters"),
        ('start q3 B "acme', "A quote is not closed"),
        ("start q3 B , ,", "Name the pilot's accounts"),
        ("q3 extra", "Name one pilot, or start one"),
    ],
)
def test_words_the_pilot_cannot_read_are_one_sentence(text: str, says: str) -> None:
    said = parse_pilot(text)
    assert isinstance(said, str) and said.startswith(says) and "\n" not in said


@given(hostile_text(120))
@settings(max_examples=300, deadline=None)
def test_hostile_words_never_crash_the_parser(text: str) -> None:
    for typed in (text, f"start q3 B {text}", f"start {text}"):
        said = parse_pilot(typed)
        if isinstance(said, str):
            assert one_sentence(said), said
        elif isinstance(said, StartPilot):
            assert said.accounts and all(a and a == a.strip() for a in said.accounts)


def test_the_three_forms() -> None:
    assert parse_pilot("") == ListPilots()
    assert parse_pilot("Q3") == ShowPilot("Q3")
    assert parse_pilot("START q3 b acme, globex") == StartPilot(
        "q3", RetentionModel.AE_RETAINS, ("acme", "globex")
    )


def _group(accounts: int) -> Group:
    return Group(accounts, Rate(None, 0), Measure(None, 0), 0, Measure(None, 0), Rate(None, 0))


def test_a_group_under_twenty_accounts_is_warned_about() -> None:
    assert MIN_GROUP == 20
    assert warnings(_group(20), _group(400)) == ()
    found = warnings(_group(19), _group(3))
    assert found[0].startswith("The pilot has 19 accounts, fewer than 20")
    assert found[1].startswith("The rest has 3 accounts, fewer than 20")


# --- through the app -------------------------------------------------------------------------
async def _book(driver: SlackDriver, names: dict[str, str] = BOOK) -> None:
    for crm_id, name in names.items():
        reply = await closed_won(driver, deal(crm_id=crm_id, account_name=name))
        assert reply.status == 202, reply.text


async def _account(bot: BotServer, team: str, crm_id: str) -> Account:
    account = await bot.services.db.run(account_by_crm, team, crm_id)
    assert account is not None
    return account


def _count(bot: BotServer, model: type) -> int:
    with session_scope(bot.services.engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


async def _start_q3(driver: SlackDriver, workspace: SandboxWorkspace, people: People) -> str:
    await _book(driver)
    initech = account_channel(workspace, "acct-initech")
    return await ask(
        driver,
        people.manager,
        f"pilot start q3 C Acme Robotics, globex <#{initech.id}|acct-initech>",
    )


async def test_a_manager_starts_a_pilot_of_three_accounts(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    team = workspace.team_id
    said = await _start_q3(driver, workspace, people)
    lines = said.splitlines()
    assert lines[0].startswith(
        ":test_tube: Pilot *q3* started: 3 accounts on model C "
        "(*Acme Robotics*, *Globex*, *Initech*)"
    ), said
    assert lines[1] == (
        ":warning: The pilot has 3 accounts, fewer than 20: read its numbers as anecdotes, "
        "not evidence."
    )
    pilot = await bot.services.db.run(pilot_named, team, "Q3")
    assert pilot is not None and pilot.model == "C" and pilot.started_by == people.manager.id
    ids = await bot.services.db.run(pilot_account_ids, team, pilot.id)
    cohort = [await _account(bot, team, c) for c in ("D-100", "D-101", "D-102")]
    assert sorted(ids) == sorted(a.id for a in cohort)
    assert all(a.retention_model == "C" for a in cohort)
    assert (await _account(bot, team, "D-103")).retention_model != "C"
    with session_scope(bot.services.engine) as session:
        causes = session.scalars(
            select(OwnershipEvent.cause).where(OwnershipEvent.account_id == cohort[0].id)
        ).all()
    assert causes[-1] == "pilot q3"
    history = await ask(driver, people.manager, "history acme robotics")
    assert "pilot q3 by <@" in history and "→ C" in history
    listed = await ask(driver, people.manager, "pilot")
    assert "• *q3*: model C, 3 accounts, started" in listed


async def test_the_comparison_is_compute_stats_on_the_cohort_and_on_the_rest(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    team = workspace.team_id
    await _start_q3(driver, workspace, people)
    now = datetime.now(UTC)
    today = (now + timedelta(days=1)).date() - timedelta(days=1)
    for crm_id in ("D-101", "D-103"):  # one churn in the pilot, one in the rest
        account = await _account(bot, team, crm_id)
        churned = await bot.services.db.run(
            record_churn,
            team,
            account.id,
            reason="economic",
            effective=today,
            by=people.csm.id,
            note=None,
            now=now,
            immediate=True,
        )
        assert churned is not None
    said = await ask(driver, people.manager, "pilot q3")

    pilot = await bot.services.db.run(pilot_named, team, "q3")
    assert pilot is not None
    facts = await bot.services.db.run(stats_facts, team, since(pilot), datetime.now(UTC))
    ids = set(await bot.services.db.run(pilot_account_ids, team, pilot.id))
    rest_ids = {a.account_id for a in facts.accounts} - ids
    settings = bot.services.settings

    def stats_of(chosen: set[int]) -> Stats:
        narrowed = filter_facts(facts, account_ids=chosen)
        return compute_stats(narrowed, settings.timezone, settings.holidays)

    ours, theirs = stats_of(ids), stats_of(rest_ids)
    renewal_ours = ours.renewal_by_model["C"]
    count = sum(r.count for r in theirs.renewal_by_model.values())
    n = sum(r.n for r in theirs.renewal_by_model.values())
    renewal_theirs = Rate(round(count / n, 3) if n else None, n, count)
    assert (renewal_ours.count, renewal_ours.n, count, n) == (0, 1, 0, 1)
    escalated = sum(theirs.escalations_by_person.values())
    lines = said.splitlines()
    assert lines[0].startswith(":test_tube: *Pilot q3* (model C, started ")
    assert "its 3 accounts against the rest of the book (1 accounts)" in lines[0]
    assert lines[1] == (
        f"• *Renewal rate:* pilot {figures.rate(renewal_ours)} · "
        f"rest {figures.rate(renewal_theirs)}"
    )
    assert lines[2] == "• *Expansion:* pilot – (n=0) · rest – (n=0)"
    assert lines[3] == (
        f"• *Escalations per account:* pilot "
        f"{sum(ours.escalations_by_person.values()) / 3:.2f} "
        f"({sum(ours.escalations_by_person.values())} over n=3) · "
        f"rest {escalated / 1:.2f} ({escalated} over n=1)"
    )
    assert lines[4] == (
        f"• *Nudges answered on time:* pilot {figures.rate(ours.milestone_on_time)} · "
        f"rest {figures.rate(theirs.milestone_on_time)}"
    )
    assert lines[5].startswith(":warning: The pilot has 3 accounts, fewer than 20")
    assert lines[6].startswith(":warning: The rest has 1 account, fewer than 20")


async def test_an_ae_may_neither_start_nor_see_a_pilot(
    driver: SlackDriver, bot: BotServer, people: People
) -> None:
    await _book(driver)
    assert await ask(driver, people.ae, "pilot start q3 B acme robotics") == REFUSED_START
    assert await ask(driver, people.ae, "pilot") == REFUSED_VIEW
    assert _count(bot, Pilot) == 0


@pytest.mark.parametrize(
    ("accounts", "says"),
    [
        ("Acme Robotics, Hooli", "I found no account matching “Hooli”"),
        ("Acme, Globex", "“Acme” matches several accounts (*Acme Robotics*, *Acme Travel*)"),
    ],
)
async def test_an_unknown_or_ambiguous_account_writes_nothing(
    driver: SlackDriver,
    bot: BotServer,
    people: People,
    workspace: SandboxWorkspace,
    accounts: str,
    says: str,
) -> None:
    await _book(driver, {**BOOK, "D-104": "Acme Travel"})
    models = {c: (await _account(bot, workspace.team_id, c)).retention_model for c in BOOK}
    said = await ask(driver, people.manager, f"pilot start q3 D {accounts}")
    assert said.startswith(says) and said.endswith("nothing was started.") and "\n" not in said
    assert _count(bot, Pilot) == _count(bot, PilotAccount) == 0
    after = {c: (await _account(bot, workspace.team_id, c)).retention_model for c in BOOK}
    assert after == models


async def test_a_pilot_name_is_taken_once_in_any_case(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    await _start_q3(driver, workspace, people)
    said = await ask(driver, people.manager, "pilot start Q3 D umbrella")
    assert said.startswith("There is already a pilot named “Q3”")
    assert (await _account(bot, workspace.team_id, "D-103")).retention_model != "D"
    again = await ask(driver, people.manager, "pilot start q4 B umbrella, globex")
    assert again.startswith("*Globex* is already in the pilot *q3*")
    assert _count(bot, Pilot) == 1


async def test_hostile_names_are_escaped(
    driver: SlackDriver, bot: BotServer, people: People
) -> None:
    await _book(driver, {"D-100": "Acme Robotics", "D-105": HOSTILE})
    asked = {
        "pilot start q3 B <!channel> nobody": "I found no account matching",
        "pilot start q3 B acme": "matches several accounts",
        "pilot start q3 <@U0EVIL> acme": "is not a retention model",
        "pilot <!here>": "I found no pilot named",
    }
    for text, says in asked.items():
        said = await ask(driver, people.manager, text)
        assert says in said, said
        assert "<!" not in said and "<http" not in said and "<@U0EVIL>" not in said, said
    said = await ask(driver, people.manager, "pilot start q3 B D-105")
    assert said.startswith(":test_tube:") and "&lt;!channel&gt; Acme &lt;https://" in said
    assert "<!channel>" not in said and "& co" not in said


# --- the report ------------------------------------------------------------------------------
def _stats(start: datetime, end: datetime) -> Stats:
    from flows.stats import Facts

    return compute_stats(Facts(start=start, end=end), UTC)  # type: ignore[arg-type]


def test_the_report_shows_each_pilot_escaped_with_its_samples_and_warnings() -> None:
    end = datetime(2027, 6, 1, tzinfo=UTC)
    stats = _stats(end - timedelta(days=30), end)
    cohort = Group(3, Rate(0.5, 2, 1), Measure(0.25, 1), 1, Measure(0.333, 3), Rate(1.0, 4, 4))
    comparison = Comparison("<script>x", "B", cohort, _group(25), warnings(cohort, _group(25)))
    page = render_report(stats, [], team="T", generated_at=end, pilots=[comparison])
    assert "<script>" not in page and "Pilot &lt;script&gt;x (model B)" in page
    assert 'data-group="cohort" data-number="renewal" data-n="2">50% (1 of 2)</td>' in page
    assert 'data-number="expansion" data-n="1">+25% (n=1)</td>' in page
    assert 'data-number="escalations_per_account" data-n="3">0.33 (1 over n=3)</td>' in page
    assert "The pilot has 3 accounts, fewer than 20" in page
    assert "The rest has" not in page
    assert "Retention-model pilots" not in render_report(stats, [], team="T", generated_at=end)


async def test_the_written_report_has_the_pilot(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace, tmp_path: Path
) -> None:
    await _start_q3(driver, workspace, people)
    end = datetime.now(UTC) + timedelta(minutes=1)
    out = tmp_path / "report.html"
    await write_report(bot.services, workspace.team_id, end - timedelta(days=30), end, out)
    page = out.read_text(encoding="utf-8")
    assert '<h3 data-pilot="q3">Pilot q3 (model C)</h3>' in page
    assert "Pilot (n=3 accounts)" in page and "Rest of the book (n=1 accounts)" in page
