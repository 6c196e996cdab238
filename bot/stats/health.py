"""The team's health in the managers' Monday digest and App Home: the alerts in force over
the last 90 days, with the accounts behind them. The digest is weekly, so each alert
reaches each manager once a week, never as daily noise; a week with no alert in force and
none cleared adds nothing.

The numbers read the whole team's facts, so one computation serves every manager for a
few minutes (`FRESH_FOR`): a tick writing twenty managers' digests reads them once, and
managers opening their App Home do not each read the book again."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.platform.kit import esc
from bot.platform.services import Services
from bot.stats import figures
from bot.stats.figures import ALERT_NAMES, figure
from flows.stats import Alert, Rate, Stats, alerts, compute_stats
from storage.accounts import accounts_by_ids
from storage.stats import stats_facts_of

WINDOW = timedelta(days=90)
FRESH_FOR = timedelta(minutes=5)
SHOWN_ACCOUNTS = 5
_MEMO = "team-health"


def team_stats(
    session: Session, services: Services, team_id: str, now: datetime, *, weeks_back: int = 0
) -> Stats:
    """The numbers of the 90 days up to `weeks_back` weeks before `now`, as computed at most
    FRESH_FOR before `now` (per process; a clock moved back computes anew)."""
    (stats,) = team_stats_of(session, services, team_id, now, (weeks_back,))
    return stats


def team_stats_of(
    session: Session, services: Services, team_id: str, now: datetime, weeks: Sequence[int]
) -> list[Stats]:
    """`team_stats` for each of `weeks` (weeks back), those not fresh read in one pass."""
    memo: dict[tuple[str, int], tuple[datetime, Stats]] = services.memo.setdefault(_MEMO, {})
    found: dict[int, Stats] = {}
    for weeks_back in weeks:
        known = memo.get((team_id, weeks_back))
        if known is not None and timedelta(0) <= now - known[0] < FRESH_FOR:
            found[weeks_back] = known[1]
    missing = [w for w in dict.fromkeys(weeks) if w not in found]
    ends = [now - timedelta(weeks=w) for w in missing]
    read = stats_facts_of(session, team_id, [(end - WINDOW, end) for end in ends])
    settings = services.settings
    for weeks_back, facts in zip(missing, read, strict=True):
        found[weeks_back] = compute_stats(facts, settings.timezone, settings.holidays)
        memo[(team_id, weeks_back)] = (now, found[weeks_back])
    return [found[w] for w in weeks]


def alert_lines(session: Session, team_id: str, found: Sequence[Alert]) -> list[str]:
    """One line per alert: the number against its line, the accounts behind it (names),
    and what the playbook suggests doing."""
    ids = sorted({i for alert in found for i in alert.accounts[:SHOWN_ACCOUNTS]})
    names = {a.id: f"*{esc(a.name)}*" for a in accounts_by_ids(session, team_id, ids)}
    lines = []
    for alert in found:
        shown = alert.accounts[:SHOWN_ACCOUNTS]
        behind = ", ".join(names.get(i, f"account {i}") for i in shown)
        more = len(alert.accounts) - len(shown)
        behind += f" and {more} more" if more > 0 else ""
        lines.append(
            f"• :rotating_light: *{ALERT_NAMES.get(alert.key, alert.key)}:* "
            f"{figure(alert.key, alert.value)} against a line of "
            f"{figure(alert.key, alert.threshold)}"
            + (f" ({behind})" if behind else "")
            + f". {esc(alert.advice)}"
        )
    return lines


def health_section(
    session: Session, services: Services, team_id: str, now: datetime
) -> tuple[str, list[str]] | None:
    """The digest's "Team health" section: the alerts in force, and those that cleared
    since the week before; None when there is neither (nothing in force, nothing changed)."""
    this_week, week_before = team_stats_of(session, services, team_id, now, (0, 1))
    found = alerts(this_week)
    before = {a.key for a in alerts(week_before)}
    cleared = sorted(before - {a.key for a in found})
    if not found and not cleared:
        return None
    lines = alert_lines(session, team_id, found) if found else ["No alert in force."]
    lines += [
        f"• :white_check_mark: *{ALERT_NAMES.get(key, key)}* is back within its line since "
        "last week."
        for key in cleared
    ]
    return "Team health: the alerts (last 90 days)", lines


def home_section(
    session: Session, services: Services, team_id: str, now: datetime
) -> tuple[str, list[str]]:
    """A manager's App Home "Team health": three headline numbers of the last 90 days and
    the alerts in force (`/baton stats` has the rest)."""
    stats = team_stats(session, services, team_id, now)
    early = stats.churn_timing.get("0-90")
    lines = [
        f"Packets complete in time: {_share(stats.packet_completion)} · packet rating: "
        + (
            f"{stats.packet_rating.value:.1f} (n={stats.packet_rating.n})"
            if stats.packet_rating.value is not None
            else "none yet"
        )
        + f" · churns in the first 90 days: {_share(early) if early else 'none yet'}",
    ]
    found = alerts(stats)
    lines += alert_lines(session, team_id, found) if found else ["No alert in force."]
    lines.append("`/baton stats` for every number and its sample.")
    return "Team health (last 90 days)", lines


def _share(rate: Rate) -> str:
    return "no data yet" if rate.value is None else figures.rate(rate)
