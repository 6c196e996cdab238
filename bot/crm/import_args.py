"""The arguments of `baton import`, apart from the command itself so that every other
`baton` command starts without loading it."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "import",
        help="bring an existing book of accounts in from a CSV file",
        description=(
            "Bring accounts in from a CSV file whose columns are the closed-won fields "
            "(crm_id, account_name, ae_email, csm_email, contract_start, …) or a HubSpot or "
            "Salesforce export's (through the CRM mapping). Every row is checked before "
            "anything is written; each account starts in its current phase."
        ),
    )
    parser.add_argument("file", metavar="FILE.csv", help="UTF-8, comma or semicolon separated")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="check every row and say what would change; write nothing",
    )
    parser.add_argument(
        "--no-channels",
        action="store_true",
        help="create no channels in Slack (the accounts wait, unplanned, until an import without it)",
    )
    parser.add_argument(
        "--request-packets",
        action="store_true",
        help="ask the AE for the handoff packet of accounts past their handoff, too",
    )
    parser.add_argument(
        "--team",
        metavar="T",
        help="the Slack workspace (team id) to import into, when Baton is in several",
    )
    return parser
