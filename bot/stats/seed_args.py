"""The arguments of `baton seed`, apart from the command itself so that every other
`baton` command starts without loading it."""

from __future__ import annotations

import argparse

MAX_BOOK = 20_000  # flows.seed.MAX_BOOK (not imported: this module loads with every command)


def _book(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of accounts") from None
    if not 1 <= value <= MAX_BOOK:
        raise argparse.ArgumentTypeError(f"the book must be from 1 to {MAX_BOOK:,} accounts")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= 2**63 - 1:
        raise argparse.ArgumentTypeError("the seed must be a whole number from 0 on")
    return value


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "seed",
        help="fill a demo or trial database with a year of made-up history (never a real book)",
        description=(
            "Write a realistic year of made-up history for N accounts (closes, handoff "
            "packets of varying quality, check-ins, milestones, renewals with expansion, "
            "churns with their causes) so that `/baton stats`, its alerts and the report "
            "have numbers to show. For a demo or trial database only: a workspace that has "
            "any account that was not seeded is refused, and so is one seeded already. "
            "Nothing is ever sent to Slack for a seeded account."
        ),
    )
    parser.add_argument(
        "--book",
        type=_book,
        required=True,
        metavar="N",
        help=f"how many accounts, 1 to {MAX_BOOK:,}",
    )
    parser.add_argument(
        "--seed",
        type=_seed,
        default=1,
        metavar="S",
        help="the random seed: the same seed gives the same history (default 1)",
    )
    parser.add_argument(
        "--team",
        metavar="ID",
        help="the Slack workspace (team id) to seed, when Baton is in several or in none yet",
    )
    return parser
