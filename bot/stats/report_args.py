"""The arguments of `baton report`, apart from the command itself so that every other
`baton` command starts without loading it."""

from __future__ import annotations

import argparse
from datetime import date

from flows.bounds import DATE_RANGE, in_range


def day(text: str) -> date:
    """A YYYY-MM-DD date within Baton's bounds (argparse turns the error into its usage)."""
    try:
        value = date.fromisoformat(text.strip())
    except ValueError:
        value = None
    if value is None or len(text.strip()) != 10:
        raise argparse.ArgumentTypeError(f"expects a date such as 2027-03-01, not {text!r}")
    if not in_range(value):
        raise argparse.ArgumentTypeError(f"expects a date {DATE_RANGE}, not {text!r}")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "report",
        help="write the handoff's numbers, alerts and trends to one HTML file",
        description=(
            "Write every number of `/baton stats` over a range, with its definition and its "
            "sample, the alerts in force and the monthly trends, to one self-contained HTML "
            "file (it works offline and can be mailed as it is)."
        ),
    )
    parser.add_argument("--out", metavar="FILE.html", required=True, help="the file to write")
    parser.add_argument(
        "--from",
        dest="start",
        type=day,
        metavar="DATE",
        help="from this day on, YYYY-MM-DD, at 00:00 UTC (default: 365 days before --to)",
    )
    parser.add_argument(
        "--to",
        dest="end",
        type=day,
        metavar="DATE",
        help="up to this day, YYYY-MM-DD, at 00:00 UTC, not included (default: now)",
    )
    parser.add_argument(
        "--team",
        metavar="T",
        help="the Slack workspace (team id) to report on, when Baton is in several",
    )
    return parser
