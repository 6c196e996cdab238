"""The `baton` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import UTC, datetime

from aiohttp import ClientConnectionError
from sqlalchemy.exc import DBAPIError

from bot.platform.settings import ConfigError, Settings, load_settings, number_within
from flows.bounds import DATE_RANGE, in_range
from storage.db import DatabaseUnusable, is_outage, outage_sentence

TICK_SECONDS = 300.0  # `baton tick` from cron: long enough to drain a day's backlog


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expects an ISO-8601 instant such as 2027-03-01T09:00:00Z, not {text!r}"
        ) from None
    if not in_range(value.date()):
        raise argparse.ArgumentTypeError(f"expects an instant {DATE_RANGE}, not {text!r}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _seconds(text: str) -> float:
    seconds = number_within(text, float, 1.0, 3600.0)
    if seconds is None:
        raise argparse.ArgumentTypeError(
            f"expects a number of seconds from 1 to 3600, not {text!r}"
        )
    return seconds


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="baton",
        description="Baton runs the AE → CSM handoff and every renewal milestone in Slack.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser("run", help="serve Slack (Socket Mode or HTTP) and run the scheduler")
    run.add_argument(
        "--role",
        choices=("all", "web", "worker"),
        default="all",
        help="web: answer Slack and the CRM; worker: tick and set up accounts; all (default): both",
    )
    commands.add_parser("demo", help="run the whole lifecycle on a sandbox Slack, offline")
    tick = commands.add_parser(
        "tick", help="do the due work and send everything due (within --seconds), then exit"
    )
    tick.add_argument(
        "--now",
        type=_instant,
        default=None,
        help="act as of this ISO-8601 instant (naive means UTC; default: now)",
    )
    tick.add_argument(
        "--seconds",
        type=_seconds,
        default=TICK_SECONDS,
        help=f"send for at most this long, 1 to 3600 (default {TICK_SECONDS:g})",
    )
    commands.add_parser(
        "status", help="what is owed and waiting, and what keeps failing (no Slack needed)"
    )
    from bot.crm.import_args import add_parser as add_import

    add_import(commands)
    from bot.stats.report_args import add_parser as add_report

    add_report(commands)
    from bot.stats.seed_args import add_parser as add_seed

    add_seed(commands)
    crm = commands.add_parser("crm", help="the CRM: read what changed there")
    crm_commands = crm.add_subparsers(dest="crm_command", required=True, metavar="ACTION")
    sync = crm_commands.add_parser(
        "sync", help="take the won deals changed in HubSpot or Salesforce since the last pass"
    )
    sync.add_argument(
        "--since",
        type=_instant,
        default=None,
        help="read the changes since this date or instant (default: since the last pass)",
    )
    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the schema migrations")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # The demo's output is its transcript; everything else logs what it does.
    level = logging.WARNING if args.command == "demo" else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))
    try:
        return _dispatch(args)
    except (ConfigError, DatabaseUnusable) as exc:
        print(f"baton: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from bot.runtime.demo import main as demo

        return demo()
    settings = load_settings()
    try:
        return _run(args, settings)
    except DBAPIError as exc:
        if not is_outage(exc):
            raise
        raise ConfigError(outage_sentence(exc, settings.database_url)) from None
    except (ClientConnectionError, TimeoutError) as exc:
        raise ConfigError(slack_unreachable(settings, exc)) from None


def slack_unreachable(settings: Settings, error: BaseException) -> str:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return (
        f"cannot reach Slack at {settings.slack_api_url} ({reason}); check SLACK_API_URL "
        "and the network."
    )


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "run":
        from bot.runtime.runner import run_forever

        asyncio.run(run_forever(settings, args.role))
        return 0
    if args.command == "tick":
        return asyncio.run(_tick(settings, args.now, args.seconds))
    if args.command == "status":
        return asyncio.run(_status(settings))
    if args.command == "crm":
        return asyncio.run(_crm_sync(settings, args.since))
    if args.command == "import":
        from bot.crm.import_cli import run as run_import
        from bot.runtime.runner import identify, make_services

        return run_import(args, make_services, identify, settings=settings)
    if args.command == "seed":
        from bot.runtime.runner import make_services
        from bot.stats.seed import run_seed

        return run_seed(args, settings, make_services)
    if args.command == "report":
        from bot.runtime.runner import make_services
        from bot.stats.report_cli import run_report

        return run_report(args, settings, make_services)
    if args.command == "db":
        from storage.db import make_engine
        from storage.migrate import upgrade

        upgrade(make_engine(settings.database_url))
        print("baton: the database schema is up to date.")
        return 0
    return 2


async def _status(settings: Settings) -> int:
    from bot.admin.status import status_lines
    from bot.runtime.runner import make_services
    from storage.migrate import upgrade
    from storage.workspaces import workspace_ids

    services = make_services(settings)
    await services.db.on_engine(upgrade)
    teams = await services.db.run(workspace_ids)
    if not teams:
        print("baton: no workspace yet: `baton run` or `baton tick` meets Slack first.")
    for team in teams:
        print(f"workspace {team}")
        for line in await status_lines(services, team):
            print(plain(line))
    services.engine.dispose()
    return 0


async def _crm_sync(settings: Settings, since: datetime | None) -> int:
    from bot.crm.sync import configured_crms, sync_all
    from bot.runtime.runner import make_services
    from storage.migrate import upgrade

    services = make_services(settings)
    await services.db.on_engine(upgrade)
    if not configured_crms(services):
        print(
            "baton: no CRM to read: set BATON_HUBSPOT_TOKEN, or BATON_SALESFORCE_TOKEN and "
            "BATON_SALESFORCE_INSTANCE_URL.",
            file=sys.stderr,
        )
        return 2
    reports = await sync_all(services, since)
    for report in reports:
        print(f"baton: {report.line()}")
    services.engine.dispose()
    return 1 if any(r.error for r in reports) else 0


def plain(line: str) -> str:
    """A status line without Slack's markup, for a terminal."""
    text = line.replace(":stethoscope: ", "").replace("*", "").replace("`", "")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


async def _tick(settings, now: datetime | None, seconds: float) -> int:
    from bot.outbox.tick import run_tick
    from bot.runtime.runner import identify, make_services
    from storage.migrate import upgrade

    settings.require("slack_bot_token")
    services = make_services(settings)
    await services.db.on_engine(upgrade)
    await identify(services)  # a refused token or no Slack at all: one sentence, exit 2
    report = await run_tick(services, now, seconds)
    print(
        f"baton: tick at {(now or services.clock()).isoformat()}: sent {len(report.sent)}, "
        f"deferred {len(report.deferred)}, unknown {len(report.unknown)}, "
        f"failed {len(report.failed)}, cancelled {len(report.cancelled)}."
    )
    services.engine.dispose()
    return 0
