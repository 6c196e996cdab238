"""`/baton stats`: the team's numbers over a window, narrowed by model, person or channel,
with the alerts in force and the sample behind every number."""

from __future__ import annotations

from datetime import timedelta

from bot.accounts.load import Refusal
from bot.people.permissions import may_see_stats
from bot.platform.kit import esc
from bot.platform.services import Services
from bot.stats import figures
from bot.stats.figures import CAUSES, TIMING
from bot.stats.health import alert_lines
from flows.stats import Rate, Stats, alerts, compute_stats, filter_facts
from flows.stats_args import StatsQuery, parse_stats_args
from storage.accounts import account_in_channel
from storage.stats import stats_facts

REFUSED = "`/baton stats` is for managers (of an account, or BATON_MANAGERS) and workspace admins."
NO_ACCOUNT_CHANNEL = "That channel is not an account's channel: name an account channel (#acct-…)."
SHOWN_PEOPLE = 5  # escalations: the most escalated-about first


async def stats_answer(services: Services, team_id: str, user_id: str, text: str) -> str:
    if not await may_see_stats(services, team_id, user_id):
        return REFUSED
    query = parse_stats_args(text)
    if isinstance(query, str):
        raise Refusal(query)
    return "\n".join(await stats_lines(services, team_id, query))


async def stats_lines(services: Services, team_id: str, query: StatsQuery) -> list[str]:
    end = services.clock()
    start = end - timedelta(days=query.days)
    facts = await services.db.run(stats_facts, team_id, start, end)
    account_ids = None
    if query.channel:
        account = await services.db.run(account_in_channel, team_id, query.channel)
        if account is None:
            raise Refusal(NO_ACCOUNT_CHANNEL)
        account_ids = [account.id]
    model = query.model.value if query.model else None
    facts = filter_facts(facts, model=model, person=query.person, account_ids=account_ids)
    settings = services.settings
    stats = compute_stats(facts, settings.timezone, settings.holidays)
    lines = [
        f":bar_chart: *The numbers, last {query.days} days* ({query.scope()}; "
        f"{start:%d %b %Y} – {end:%d %b %Y})",
        *number_lines(stats),
    ]
    found = alerts(stats)
    if not found:
        lines.append("*Alerts:* none in force.")
        return lines
    lines.append("*Alerts:*")
    lines += await services.db.run(alert_lines, team_id, found)
    return lines


def number_lines(stats: Stats) -> list[str]:
    """One line per number, each with the sample it stands on."""
    return [
        f"• *Packet completion:* {figures.rate(stats.packet_completion)} within the gate's two "
        f"business days; median {figures.hours(stats.packet_hours)} from close to complete.",
        f"• *Packet rating:* {figures.average(stats.packet_rating)} of the last ten"
        + (
            "; missing most: " + figures.missing(stats.missing_fields, esc)
            if stats.missing_fields.top
            else ""
        )
        + ".",
        f"• *Time to first value:* median {figures.days(stats.first_value_days)}; "
        f"{figures.rate(stats.first_value_30d)} within 30 days.",
        f"• *Churn causes:* {figures.shares(stats.churn_reasons, CAUSES)}.",
        f"• *Churn timing:* {figures.shares(stats.churn_timing, TIMING)}.",
        f"• *ICP exceptions:* churn {figures.rate(stats.icp_churn)} outside the ICP vs "
        f"{figures.rate(stats.non_icp_churn)} inside"
        + (f": {figures.ratio(stats.icp_ratio)}" if stats.icp_ratio.value is not None else "")
        + " (the playbook expects about 2.5×).",
        f"• *Milestones on time:* {figures.rate(stats.milestone_on_time)}"
        + _by(stats.milestone_on_time_by_role, lambda role: esc(role.upper()))
        + _escalations(stats.escalations_by_person)
        + ".",
        f"• *Renewal by model:* {_per_model(stats)}.",
        f"• *Check-in mismatches by AE:* {_per_person(stats.mismatch_by_ae)}.",
    ]


def _by(rates: dict[str, Rate], name) -> str:  # noqa: ANN001
    parts = [f"{name(key)} {figures.rate(rate)}" for key, rate in sorted(rates.items()) if rate.n]
    return f"; {', '.join(parts)}" if parts else ""


def _escalations(counts: dict[str, int]) -> str:
    if not counts:
        return "; no escalations"
    shown = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:SHOWN_PEOPLE]
    return "; escalations: " + ", ".join(f"{_person(who)} {n}" for who, n in shown)


def _per_model(stats: Stats) -> str:
    parts = []
    for model, rate in sorted(stats.renewal_by_model.items()):
        if not rate.n:
            continue
        expansion = stats.expansion_by_model.get(model)
        grown = (
            f", expansion {figures.expansion(expansion)}"
            if expansion and expansion.value is not None
            else ""
        )
        parts.append(f"{esc(model)} {figures.rate(rate)}{grown}")
    return ", ".join(parts) or "no renewals or churns yet (n=0)"


def _per_person(rates: dict[str, Rate]) -> str:
    parts = [
        f"{_person(who)} {figures.rate(rate)}" for who, rate in sorted(rates.items()) if rate.n
    ]
    return ", ".join(parts[:10]) or "no check-ins yet (n=0)"


def _person(user_id: str) -> str:
    return f"<@{esc(user_id)}>" if user_id and user_id[0] in "UW" else esc(user_id)
