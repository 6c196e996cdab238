"""`/baton stats` through the real app: the numbers over the team's real rows, the alerts
in force with the accounts behind them, who may ask, and what bad words get."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.runtime.runner import BotServer
from bot.sandbox import SandboxWorkspace, SlackDriver
from storage.accounts import account_by_crm
from storage.renewals import record_churn
from tests.conftest import People
from tests.helpers import account_channel, ask, closed_won, deal


async def _book(driver: SlackDriver, bot: BotServer, team: str, churns: dict[str, str]) -> None:
    """Six accounts closed today; the ones in `churns` churn for the reason given."""
    for n in range(6):
        name = f"Account {n}"
        reply = await closed_won(driver, deal(crm_id=f"D-{n}", account_name=name))
        assert reply.status == 202, reply.text
    now = datetime.now(UTC)
    for crm_id, reason in churns.items():
        account = await bot.services.db.run(account_by_crm, team, crm_id)
        assert account is not None
        outcome = await bot.services.db.run(
            record_churn,
            team,
            account.id,
            reason=reason,
            effective=(now + timedelta(days=1)).date() - timedelta(days=1),
            by="U0TEST",
            note=None,
            now=now,
            immediate=True,
        )
        assert outcome is not None


async def test_a_manager_sees_the_numbers_and_the_alerts_in_force(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    churns = {f"D-{n}": "expectation_mismatch" if n < 2 else "product_fit" for n in range(5)}
    await _book(driver, bot, workspace.team_id, churns)
    said = await ask(driver, people.manager, "stats 30")
    lines = said.splitlines()
    assert lines[0].startswith(":bar_chart: *The numbers, last 30 days* (every account;")
    assert "• *Churn causes:* expectation mismatch 40%, product fit 60% (n=5)." in lines
    assert "• *Churn timing:* 0–90 days 100% (n=5)." in lines
    assert any(line.startswith("• *Packet completion:* ") for line in lines)
    alerts = said.split("*Alerts:*", 1)[1]
    assert "*Expectation mismatch:* 40% against a line of 20% (*Account 0*, *Account 1*)" in alerts
    assert "*Churn in the first 90 days:* 100% against a line of 40%" in alerts


async def test_four_churns_are_too_few_for_an_alert(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    churns = {f"D-{n}": "expectation_mismatch" for n in range(4)}
    await _book(driver, bot, workspace.team_id, churns)
    said = await ask(driver, people.manager, "stats")
    assert said.endswith("*Alerts:* none in force.")


async def test_the_numbers_narrow_to_a_channel_or_a_model(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    await _book(driver, bot, workspace.team_id, {"D-0": "economic"})
    await bot.services.db.run(lambda s: None)  # the set-up queue works in the background
    channel = account_channel(workspace, "acct-account-0")
    said = await ask(driver, people.manager, f"stats <#{channel.id}|acct-account-0>")
    assert f"(<#{channel.id}>;" in said.splitlines()[0]
    assert "• *Churn causes:* economic 100% (n=1)." in said
    said = await ask(driver, people.manager, "stats 365 model C")
    assert "(model C;" in said.splitlines()[0] and "no churns yet (n=0)" in said


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("0", "The number of days must be from 1 to 3650"),
        ("99999", "The number of days must be from 1 to 3650"),
        ("A B", "Give at most one of a model, a person or a channel"),
        ("everything", "Narrow the numbers by a retention model (A, B, C or D)"),
        ("<#C0NOTACCT|random>", "That channel is not an account's channel"),
    ],
)
async def test_words_stats_cannot_read_get_one_sentence(
    driver: SlackDriver, people: People, words: str, says: str
) -> None:
    assert (await closed_won(driver, deal())).status == 202  # maya manages it
    said = await ask(driver, people.manager, f"stats {words}")
    assert said.startswith(says) and said.endswith(".") and "\n" not in said


async def test_others_are_told_who_may_see_the_numbers(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    await _book(driver, bot, workspace.team_id, {})
    said = await ask(driver, people.ae, "stats")
    assert (
        said
        == "`/baton stats` is for managers (of an account, or BATON_MANAGERS) and workspace admins."
    )


async def test_a_first_renewal_counts_towards_expansion(
    driver: SlackDriver, bot: BotServer, people: People, workspace: SandboxWorkspace
) -> None:
    from decimal import Decimal

    from storage.renewals import record_renewal

    year = deal(contract_start="2025-11-01", renewal_date="2026-11-01")
    assert (await closed_won(driver, year)).status == 202
    account = await bot.services.db.run(account_by_crm, workspace.team_id, "D-100")
    assert account is not None and account.arr == Decimal("80000.00")
    renewed = await bot.services.db.run(
        record_renewal,
        workspace.team_id,
        account.id,
        cycle=account.renewal_date,
        new_date=account.renewal_date.replace(year=2028),
        new_arr=Decimal("100000"),
        by=people.csm.id,
        note=None,
        now=datetime.now(UTC),
        immediate=True,
    )
    assert renewed is not None and renewed.prior_arr == Decimal("80000.00")
    said = await ask(driver, people.manager, "stats 3650")
    model = account.retention_model
    assert f"• *Renewal by model:* {model} 100% (1 of 1), expansion +25% (n=1)." in said
