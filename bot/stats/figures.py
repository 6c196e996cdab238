"""How a number of `flows.stats` reads, once for `/baton stats` and `baton report` alike.

Plain text, not escaped: Slack's answer escapes what it interpolates with `esc`, the report
with `html.escape`.
"""

from __future__ import annotations

from collections.abc import Callable

from flows.stats import Measure, Rate, Tally

CAUSES = {"expectation_mismatch": "expectation mismatch", "product_fit": "product fit"}
TIMING = {"0-90": "0–90 days", "91-365": "91–365", "365+": "365+"}
ALERT_NAMES = {
    "packet_rating": "Packet rating",
    "expectation_mismatch": "Expectation mismatch",
    "early_churn": "Churn in the first 90 days",
}


def rate(value: Rate) -> str:
    if value.value is None:
        return "no data yet (n=0)"
    return f"{value.value:.0%} ({value.count} of {value.n})"


def average(measure: Measure) -> str:
    if measure.value is None:
        return "no ratings yet (n=0)"
    return f"{measure.value:.1f} average (n={measure.n})"


def hours(measure: Measure) -> str:
    return _whole(measure, "h")


def days(measure: Measure) -> str:
    return _whole(measure, "days")


def _whole(measure: Measure, unit: str) -> str:
    if measure.value is None:
        return "– (n=0)"
    return f"{measure.value:.0f} {unit} (n={measure.n})"


def ratio(measure: Measure) -> str:
    """The ICP churn ratio (`/baton stats` leaves it out when it is not known)."""
    if measure.value is None:
        return f"– (n={measure.n})"
    return f"{measure.value:.1f}×"


def expansion(measure: Measure) -> str:
    if measure.value is None:
        return f"– (n={measure.n})"
    return f"{measure.value:+.0%} (n={measure.n})"


def shares(rates: dict[str, Rate], names: dict[str, str]) -> str:
    n = max((r.n for r in rates.values()), default=0)
    if not n:
        return "no churns yet (n=0)"
    parts = [f"{names.get(key, key)} {r.value:.0%}" for key, r in rates.items() if r.value]
    return f"{', '.join(parts) or 'none'} (n={n})"


def missing(tally: Tally, quote: Callable[[str], str] = str) -> str:
    """The fields marked missing most, each with its count."""
    if not tally.top:
        return f"none (n={tally.n})" if tally.n else "no ratings yet (n=0)"
    return ", ".join(f"{quote(key)} ({n})" for key, n in tally.top)


def figure(key: str, value: float) -> str:
    """An alert's value or threshold."""
    return f"{value:.1f}" if key == "packet_rating" else f"{value:.0%}"
