"""`baton report`'s page: every number of `/baton stats` over a range, with its definition
and its sample, the alerts in force, and the trends, in one self-contained HTML file.

Nothing in the page reaches outside it (no script, no font, no image but inline SVG; the
Content-Security-Policy says so, so a browser refuses anything that slipped in). Every
number sits in an element with `data-stat` (the Stats field, `field.key` inside a dict,
`alert.key` for an alert) and `data-n` (its sample), and reads as `/baton stats` writes it
(`bot.stats.figures`). Every interpolated value is escaped: account names are user data.
"""

from __future__ import annotations

import ast
import inspect
import os
import textwrap
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime
from functools import cache
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot.platform.services import Services
from bot.stats import figures
from bot.stats.figures import ALERT_NAMES, CAUSES, TIMING
from bot.stats.pilot import ROWS, compare_facts, figure
from flows.pilot import Comparison
from flows.stats import EARLY, Alert, Facts, Measure, Rate, Stats, Tally, alerts, compute_stats
from storage.pilots import cohorts, pilots
from storage.stats import stats_facts
from storage.workspaces import get_workspace

MAX_MONTHS = 36  # a longer range is charted per year
RATING_SCALE = 5.0
TITLES = {
    "packet_completion": "Packet completion rate",
    "packet_hours": "Time to complete the packet",
    "packet_rating": "Packet rating",
    "missing_fields": "Fields missing most",
    "first_value_days": "Time to first value",
    "first_value_30d": "First value within 30 days",
    "churn_reasons": "Churn root causes",
    "churn_timing": "Churn timing",
    "icp_churn": "ICP exceptions' churn rate",
    "non_icp_churn": "Other accounts' churn rate",
    "icp_ratio": "ICP churn ratio",
    "milestone_on_time": "Milestones on time",
    "milestone_on_time_by_role": "Milestones on time, by role",
    "milestone_on_time_by_person": "Milestones on time, by person",
    "escalations_by_person": "Escalations, by person",
    "renewal_by_model": "Renewal rate, by retention model",
    "expansion_by_model": "Expansion rate, by retention model",
    "mismatch_by_ae": "Check-in mismatch rate, by AE",
}
CSP = "default-src 'none'; style-src 'unsafe-inline'"
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
margin:0 auto;max-width:1000px;padding:24px 32px 64px;background:#fff}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 10px;
border-bottom:2px solid #e3e7ee;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.meta{color:#5a6475;margin:0}.alert{border-left:5px solid #c62828;background:#fdecea;
padding:10px 14px;margin:10px 0;border-radius:4px}.alert p{margin:4px 0}
.calm{border-left:5px solid #2e7d32;background:#edf7ee;padding:10px 14px;border-radius:4px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;
padding:8px 10px;border-bottom:1px solid #e3e7ee}th{background:#f5f7fa;font-size:13px}
td.value{white-space:nowrap;font-variant-numeric:tabular-nums;font-weight:600}
td.definition{color:#3b4455;font-size:14px}ul.parts{margin:0;padding:0;list-style:none}
code{font-size:12px;color:#5a6475}.empty{color:#5a6475;font-style:italic}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}svg .track{fill:#eef1f5}
svg .bar{fill:#3f6fd8}svg .bar.down{fill:#c62828}svg .axis{stroke:#9aa3b2}
figure{margin:8px 0 20px}figcaption{color:#5a6475;font-size:13px}
"""


@dataclass(frozen=True)
class Period:
    """One month (or year) of the trends, and its numbers."""

    key: str  # 2027-03 (or 2027)
    label: str  # Mar 2027 (or 2027)
    stats: Stats


@dataclass(frozen=True)
class Bar:
    label: str
    share: float | None  # the bar's length: a fraction of the scale, −1 … 1
    text: str
    stat: str
    n: int
    period: str | None = None


# --- the numbers over time -------------------------------------------------------------------
def periods(start: datetime, end: datetime) -> list[tuple[str, str, datetime, datetime]]:
    """The calendar months of [start, end), clipped to it (years when there are more than
    MAX_MONTHS): (key, label, from, to)."""
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    by_year = months > MAX_MONTHS
    found = []
    cursor = start
    while cursor < end:
        year, month = cursor.year, cursor.month
        if by_year:
            following = datetime(year + 1, 1, 1, tzinfo=start.tzinfo)
            key = label = f"{year}"
        else:
            following = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=start.tzinfo)
            key, label = f"{year}-{month:02}", f"{cursor:%b %Y}"
        found.append((key, label, cursor, min(following, end)))
        cursor = following
    return found


def trend(facts: Facts, default_tz: ZoneInfo, holidays: Container[date] = ()) -> list[Period]:
    """compute_stats over each month's facts. The range's facts hold every month's: what
    reaches back (accounts, ratings, outcomes) is read up to the range's end, and what is
    windowed (nudges, escalations, check-ins) is the range's, each judged by its month."""
    return [
        Period(key, label, compute_stats(replace(facts, start=a, end=b), default_tz, holidays))
        for key, label, a, b in periods(facts.start, facts.end)
    ]


@cache
def definitions() -> dict[str, str]:
    """Each Stats field's docstring, as flows/stats.py writes it."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(Stats)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    found = {}
    for field, doc in zip(body, body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(doc, ast.Expr)
            and isinstance(doc.value, ast.Constant)
            and isinstance(doc.value.value, str)
        ):
            found[field.target.id] = " ".join(doc.value.value.split())
    return found


# --- the page --------------------------------------------------------------------------------
def render_report(
    stats: Stats,
    trends: list[Period],
    *,
    team: str,
    generated_at: datetime,
    names: Mapping[int, str] | None = None,
    pilots: Sequence[Comparison] = (),
) -> str:
    """The whole page. `names`: account names by id (for the accounts behind an alert);
    `pilots`: each retention-model pilot's cohort against the rest, over the same range."""
    span = f"{_day(stats.start)} – {_day(stats.end)}"
    title = f"Baton report: {team}, {span}"
    body = "\n".join(
        [
            f"<h1>{escape(title)}</h1>",
            f'<p class="meta">The handoff measured over [{escape(stats.start.isoformat())}, '
            f"{escape(stats.end.isoformat())}); generated {escape(_instant(generated_at))}.</p>",
            _alerts_section(stats, names or {}),
            _charts_section(stats, trends),
            _numbers_section(stats),
            *([_pilots_section(pilots)] if pilots else []),
        ]
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _number(stat: str, n: int, text: str, tag: str = "span", period: str | None = None) -> str:
    month = f' data-period="{escape(period)}"' if period else ""
    return f'<{tag} data-stat="{escape(stat)}" data-n="{n}"{month}>{escape(text)}</{tag}>'


# --- alerts ----------------------------------------------------------------------------------
def _alerts_section(stats: Stats, names: Mapping[int, str]) -> str:
    found = alerts(stats)
    if not found:
        return '<h2>Alerts in force</h2>\n<p class="calm">None in force.</p>'
    return "<h2>Alerts in force</h2>\n" + "\n".join(_alert(a, stats, names) for a in found)


def alert_sample(alert: Alert, stats: Stats) -> int:
    """The sample an alert stands on: the ratings, or the window's churns."""
    if alert.key == "packet_rating":
        return stats.packet_rating.n
    if alert.key == "early_churn":
        return stats.churn_timing[EARLY].n
    return stats.churn_reasons[alert.key].n


def _alert(alert: Alert, stats: Stats, names: Mapping[int, str]) -> str:
    n = alert_sample(alert, stats)
    behind = ", ".join(escape(names.get(i, f"account {i}")) for i in alert.accounts)
    accounts = f"<p>Accounts behind it: {behind}.</p>" if behind else ""
    return (
        f'<div class="alert" data-alert="{escape(alert.key)}">'
        f"<p><strong>{escape(ALERT_NAMES.get(alert.key, alert.key))}:</strong> "
        f"{_number(f'alert.{alert.key}', n, figures.figure(alert.key, alert.value))} "
        "against a line of "
        f"{_number(f'alert.{alert.key}.threshold', n, figures.figure(alert.key, alert.threshold))}"
        f" (n={n}).</p>{accounts}<p>{escape(alert.advice)}</p></div>"
    )


# --- charts ----------------------------------------------------------------------------------
def _charts_section(stats: Stats, trends: list[Period]) -> str:
    unit = "year" if trends and len(trends[0].key) == 4 else "month"
    churns = stats.churn_timing[EARLY].n
    reasons = [
        Bar(CAUSES.get(k, k), r.value, figures.rate(r), f"churn_reasons.{k}", r.n)
        for k, r in stats.churn_reasons.items()
    ]
    timing = [
        Bar(TIMING.get(k, k), r.value, figures.rate(r), f"churn_timing.{k}", r.n)
        for k, r in stats.churn_timing.items()
    ]
    completion = [
        Bar(
            p.label,
            p.stats.packet_completion.value,
            figures.rate(p.stats.packet_completion),
            "packet_completion",
            p.stats.packet_completion.n,
            p.key,
        )
        for p in trends
    ]
    rating = [
        Bar(
            p.label,
            None if p.stats.packet_rating.value is None else p.stats.packet_rating.value / 5,
            figures.average(p.stats.packet_rating),
            "packet_rating",
            p.stats.packet_rating.n,
            p.key,
        )
        for p in trends
    ]
    renewal = [
        Bar(m, r.value, figures.rate(r), f"renewal_by_model.{m}", r.n)
        for m, r in sorted(stats.renewal_by_model.items())
    ]
    return "\n".join(
        [
            "<h2>Charts</h2>",
            _chart("Churn timing (days from close to churn)", timing if churns else []),
            _chart("Churn root causes", reasons if churns else []),
            _chart(f"Packet completion rate per {unit}", completion),
            _chart(f"Packet rating per {unit} (average of the last 10, out of 5)", rating),
            _chart("Renewal rate per retention model", renewal),
            _chart("Expansion rate per retention model", _expansion_bars(stats)),
        ]
    )


def _expansion_bars(stats: Stats) -> list[Bar]:
    known = [m.value for m in stats.expansion_by_model.values() if m.value is not None]
    scale = max([1.0, *(abs(v) for v in known)])
    return [
        Bar(
            model,
            None if m.value is None else m.value / scale,
            figures.expansion(m),
            f"expansion_by_model.{model}",
            m.n,
        )
        for model, m in sorted(stats.expansion_by_model.items())
    ]


def _chart(title: str, bars: list[Bar]) -> str:
    chart = _svg(title, bars) if bars else '<p class="empty">no data yet (n=0)</p>'
    return f"<figure><h3>{escape(title)}</h3>{chart}</figure>"


def _svg(title: str, bars: list[Bar]) -> str:
    """Horizontal bars, one row each: the label, the bar on its track, the number. A bar
    may be negative (expansion): the axis is then in the middle."""
    row, label_w, track_w, width = 26, 150, 330, 760
    signed = any(b.share is not None and b.share < 0 for b in bars)
    zero = label_w + (track_w / 2 if signed else 0)
    half = track_w / 2 if signed else track_w
    height = row * len(bars) + 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>"
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * row
        out.append(
            f'<text x="{label_w - 8}" y="{y + 17}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect class="track" x="{label_w}" y="{y + 5}" width="{track_w}" height="16"/>'
        )
        if bar.share:
            length = min(abs(bar.share), 1.0) * half
            x = zero - length if bar.share < 0 else zero
            down = " down" if bar.share < 0 else ""
            out.append(
                f'<rect class="bar{down}" x="{x:.1f}" y="{y + 5}" width="{length:.1f}" '
                'height="16"/>'
            )
        number = _number(bar.stat, bar.n, bar.text, "text", bar.period)
        out.append(number.replace("<text", f'<text x="{label_w + track_w + 10}" y="{y + 17}"', 1))
    if signed:
        out.append(f'<line class="axis" x1="{zero}" y1="0" x2="{zero}" y2="{height}"/>')
    out.append("</svg>")
    return "".join(out)


# --- every number, with its definition -------------------------------------------------------
def _numbers_section(stats: Stats) -> str:
    defined = definitions()
    rows = []
    for field in fields(Stats):
        if field.name in ("start", "end"):
            continue
        value = getattr(stats, field.name)
        rows.append(
            f'<tr data-field="{field.name}"><th scope="row">'
            f"{escape(TITLES.get(field.name, field.name))}<br><code>{field.name}</code></th>"
            f'<td class="value">{_value(field.name, value)}</td>'
            f'<td class="definition">{escape(defined.get(field.name, ""))}</td></tr>'
        )
    return (
        "<h2>Every number, with its definition and its sample</h2>\n"
        "<table><thead><tr><th>Number</th><th>Value (sample)</th><th>Definition</th></tr>"
        f"</thead><tbody>\n{chr(10).join(rows)}\n</tbody></table>"
    )


def _value(name: str, value: object) -> str:
    if isinstance(value, Rate):
        return _number(name, value.n, figures.rate(value))
    if isinstance(value, Measure):
        return _number(name, value.n, _measure(name, value))
    if isinstance(value, Tally):
        return _number(name, value.n, figures.missing(value))
    if isinstance(value, dict):
        return _parts(name, value)
    return escape(str(value))


def _measure(name: str, measure: Measure) -> str:
    if name == "packet_rating":
        return figures.average(measure)
    if name == "packet_hours":
        return figures.hours(measure)
    if name == "icp_ratio":
        return figures.ratio(measure)
    return figures.days(measure)


def _parts(name: str, values: Mapping[str, Rate | Measure | int]) -> str:
    """A dict of numbers: for the churn shares first the summary `/baton stats` gives, then
    one line per key."""
    lines = []
    labels = {"churn_reasons": CAUSES, "churn_timing": TIMING}.get(name, {})
    if labels:
        shares = {k: v for k, v in values.items() if isinstance(v, Rate)}
        n = max((r.n for r in shares.values()), default=0)
        lines.append(_number(name, n, figures.shares(shares, labels), "li"))
    elif not values:
        return _number(name, 0, "no data yet (n=0)")
    for key, item in values.items():
        stat = f"{name}.{key}"
        if isinstance(item, Rate):
            number = _number(stat, item.n, figures.rate(item))
        elif isinstance(item, Measure):
            number = _number(stat, item.n, figures.expansion(item))
        else:
            number = _number(stat, item, str(item))
        lines.append(f"<li>{escape(labels.get(key, key))}: {number}</li>")
    return f'<ul class="parts">{"".join(lines)}</ul>'


# --- pilots ----------------------------------------------------------------------------------
def _pilots_section(comparisons: Sequence[Comparison]) -> str:
    """A table per pilot: the cohort against the rest of the book, each number with its n
    (in `data-pilot`, `data-group`, `data-number` and `data-n`), and the warnings."""
    return "<h2>Retention-model pilots</h2>\n" + "\n".join(_pilot(c) for c in comparisons)


def _pilot(comparison: Comparison) -> str:
    name = escape(comparison.name)
    rows = []
    for key, label in ROWS:
        cells = []
        for side, group in (("cohort", comparison.cohort), ("rest", comparison.rest)):
            text, n = figure(group, key)
            cells.append(
                f'<td class="value" data-pilot="{name}" data-group="{side}" '
                f'data-number="{key}" data-n="{n}">{escape(text)}</td>'
            )
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{"".join(cells)}</tr>')
    warnings = "".join(
        f'<p class="alert" data-pilot-warning="{name}">{escape(w)}</p>' for w in comparison.warnings
    )
    return (
        f'<h3 data-pilot="{name}">Pilot {name} (model {escape(comparison.model)})</h3>'
        "<table><thead><tr><th>Number</th>"
        f"<th>Pilot (n={comparison.cohort.accounts} accounts)</th>"
        f"<th>Rest of the book (n={comparison.rest.accounts} accounts)</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{warnings}"
    )


# --- writing it ------------------------------------------------------------------------------
async def write_report(
    services: Services, team_id: str, start: datetime, end: datetime, out: Path
) -> int:
    """Write the report of [start, end) to `out`; the number of accounts it covers (those
    closed before its end)."""
    facts = await services.db.run(stats_facts, team_id, start, end)
    workspace = await services.db.run(get_workspace, team_id)
    settings = services.settings
    stats = compute_stats(facts, settings.timezone, settings.holidays)
    team = f"{workspace.team_name} ({team_id})" if workspace and workspace.team_name else team_id
    page = render_report(
        stats,
        trend(facts, settings.timezone, settings.holidays),
        team=team,
        generated_at=services.clock(),
        names={a.account_id: a.name for a in facts.accounts},
        pilots=await services.db.run(_pilot_comparisons, services, team_id, facts),
    )
    _write(out, page)
    return len(facts.accounts)


def _pilot_comparisons(
    session: Session, services: Services, team_id: str, facts: Facts
) -> list[Comparison]:
    """Every pilot of the team, compared over the report's range."""
    members = cohorts(session, team_id)
    return [
        compare_facts(services, pilot, facts, set(members.get(pilot.id or 0, [])))
        for pilot in pilots(session, team_id)
    ]


def _write(out: Path, page: str) -> None:
    """Whole or not at all: a temporary file beside it, renamed over it."""
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
