"""`/baton stats`: the team's numbers over a window, narrowed by model, person or channel,
with the alerts in force and the sample behind every number."""

from __future__ import annotations

from datetime import timedelta

from bot.accounts.load import Refusal
from bot.people.permissions import may_see_stats
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.stats import Measure, Rate, Stats, alerts, compute_stats, filter_facts
from flows.stats_args import StatsQuery, parse_stats_args
from storage.accounts import account_in_channel, accounts_by_ids
from storage.stats import stats_facts

REFUSED = "`/baton stats` is for managers (of an account, or BATON_MANAGERS) and workspace admins."
NO_ACCOUNT_CHANNEL = "That channel is not an account's channel: name an account channel (#acct-…)."
CAUSES = {"expectation_mismatch": "expectation mismatch", "product_fit": "product fit"}
ALERT_NAMES = {
    "packet_rating": "Packet rating",
    "expectation_mismatch": "Expectation mismatch",
    "early_churn": "Churn in the first 90 days",
}
SHOWN_ACCOUNTS = 5


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
    names = await _names(services, team_id, found)
    lines.append("*Alerts:*")
    for alert in found:
        behind = ", ".join(names.get(i, f"account {i}") for i in alert.accounts[:SHOWN_ACCOUNTS])
        more = len(alert.accounts) - SHOWN_ACCOUNTS
        behind += f" and {more} more" if more > 0 else ""
        lines.append(
            f"• :rotating_light: *{ALERT_NAMES.get(alert.key, alert.key)}:* "
            f"{_figure(alert.key, alert.value)} against a line of "
            f"{_figure(alert.key, alert.threshold)}"
            + (f" ({behind})" if behind else "")
            + f". {alert.advice}"
        )
    return lines


def number_lines(stats: Stats) -> list[str]:
    """One line per number, each with the sample it stands on."""
    return [
        f"• *Packet completion:* {_rate(stats.packet_completion)} within the gate's two "
        f"business days; median {_hours(stats.packet_hours)} from close to complete.",
        f"• *Packet rating:* {_average(stats.packet_rating)} of the last ten"
        + (
            "; missing most: " + ", ".join(f"{esc(k)} ({n})" for k, n in stats.missing_fields.top)
            if stats.missing_fields.top
            else ""
        )
        + ".",
        f"• *Time to first value:* median {_days(stats.first_value_days)}; "
        f"{_rate(stats.first_value_30d)} within 30 days.",
        f"• *Churn causes:* {_shares(stats.churn_reasons, CAUSES)}.",
        f"• *Churn timing:* {_shares(stats.churn_timing, {'0-90': '0–90 days', '91-365': '91–365', '365+': '365+'})}.",
        f"• *ICP exceptions:* churn {_rate(stats.icp_churn)} outside the ICP vs "
        f"{_rate(stats.non_icp_churn)} inside"
        + (f": {stats.icp_ratio.value:.1f}×" if stats.icp_ratio.value is not None else "")
        + " (the playbook expects about 2.5×).",
        f"• *Milestones on time:* {_rate(stats.milestone_on_time)}"
        + _by(stats.milestone_on_time_by_role, lambda role: esc(role.upper()))
        + _escalations(stats.escalations_by_person)
        + ".",
        f"• *Renewal by model:* {_per_model(stats)}.",
        f"• *Check-in mismatches by AE:* {_per_person(stats.mismatch_by_ae)}.",
    ]


def _rate(rate: Rate) -> str:
    if rate.value is None:
        return "no data yet (n=0)"
    return f"{rate.value:.0%} ({rate.count} of {rate.n})"


def _average(measure: Measure) -> str:
    if measure.value is None:
        return "no ratings yet (n=0)"
    return f"{measure.value:.1f} average (n={measure.n})"


def _hours(measure: Measure) -> str:
    if measure.value is None:
        return "– (n=0)"
    return f"{measure.value:.0f} h (n={measure.n})"


def _days(measure: Measure) -> str:
    if measure.value is None:
        return "– (n=0)"
    return f"{measure.value:.0f} days (n={measure.n})"


def _shares(rates: dict[str, Rate], names: dict[str, str]) -> str:
    n = max((r.n for r in rates.values()), default=0)
    if not n:
        return "no churns yet (n=0)"
    parts = [f"{names.get(key, key)} {r.value:.0%}" for key, r in rates.items() if r.value]
    return f"{', '.join(parts) or 'none'} (n={n})"


def _by(rates: dict[str, Rate], name) -> str:  # noqa: ANN001
    parts = [f"{name(key)} {_rate(rate)}" for key, rate in sorted(rates.items()) if rate.n]
    return f"; {', '.join(parts)}" if parts else ""


def _escalations(counts: dict[str, int]) -> str:
    if not counts:
        return "; no escalations"
    shown = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:SHOWN_ACCOUNTS]
    return "; escalations: " + ", ".join(f"{_person(who)} {n}" for who, n in shown)


def _per_model(stats: Stats) -> str:
    parts = []
    for model, rate in sorted(stats.renewal_by_model.items()):
        if not rate.n:
            continue
        expansion = stats.expansion_by_model.get(model)
        grown = (
            f", expansion {expansion.value:+.0%} (n={expansion.n})"
            if expansion and expansion.value is not None
            else ""
        )
        parts.append(f"{esc(model)} {_rate(rate)}{grown}")
    return ", ".join(parts) or "no renewals or churns yet (n=0)"


def _per_person(rates: dict[str, Rate]) -> str:
    parts = [f"{_person(who)} {_rate(rate)}" for who, rate in sorted(rates.items()) if rate.n]
    return ", ".join(parts[:10]) or "no check-ins yet (n=0)"


def _person(user_id: str) -> str:
    return f"<@{esc(user_id)}>" if user_id and user_id[0] in "UW" else esc(user_id)


def _figure(key: str, value: float) -> str:
    return f"{value:.1f}" if key == "packet_rating" else f"{value:.0%}"


async def _names(services: Services, team_id: str, found: list) -> dict[int, str]:  # noqa: ANN001
    ids = sorted({i for alert in found for i in alert.accounts[:SHOWN_ACCOUNTS]})
    accounts = await services.db.run(accounts_by_ids, team_id, ids)
    return {a.id: f"*{esc(a.name)}*" for a in accounts if a.id is not None}
