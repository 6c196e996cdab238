"""`baton report --out FILE.html [--from DATE] [--to DATE] [--team T]`.

Exit 0: written (one line says what). Exit 2: a range, a file or a workspace that cannot be
(one sentence on stderr). Settings and database problems are raised as every other `baton`
command raises them (ConfigError and the rest)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.platform.clock import Clock, system_clock
from bot.platform.services import Services
from bot.platform.settings import Settings
from bot.stats.report import write_report
from bot.stats.report_args import add_parser  # noqa: F401 (the command's arguments)
from flows.workspaces import NoWorkspace, chosen_workspace
from storage.migrate import upgrade
from storage.workspaces import workspace_ids

MakeServices = Callable[[Settings, Clock], Services]
DEFAULT_DAYS = 365
SHOWN = 200


class _Refused(Exception):
    """One sentence for stderr (exit 2)."""


def run_report(
    args: argparse.Namespace,
    settings: Settings,
    make_services: MakeServices,
    clock: Clock = system_clock,
) -> int:
    try:
        return asyncio.run(_main(args, settings, make_services, clock))
    except _Refused as refused:
        print(f"baton: {refused}", file=sys.stderr)
        return 2


async def _main(
    args: argparse.Namespace, settings: Settings, make_services: MakeServices, clock: Clock
) -> int:
    start, end = window(args.start, args.end, clock())
    out = _target(Path(args.out))
    services = make_services(settings, clock)
    try:
        await services.db.on_engine(upgrade)
        team = _team(await services.db.run(workspace_ids), args.team)
        try:
            accounts = await write_report(services, team, start, end, out)
        except OSError as exc:
            raise _Refused(f"{_shown(args.out)} cannot be written ({_why(exc)}).") from None
    finally:
        services.engine.dispose()
    print(
        f"baton: wrote {args.out} ({accounts:,} account{'' if accounts == 1 else 's'}, "
        f"{start.date().isoformat()} – {end.date().isoformat()})."
    )
    return 0


def window(start: date | None, end: date | None, now: datetime) -> tuple[datetime, datetime]:
    """[--from 00:00 UTC, --to 00:00 UTC); no --to: until now; no --from: 365 days back."""
    until = _midnight(end) if end else now.astimezone(UTC)
    since = _midnight(start) if start else until - timedelta(days=DEFAULT_DAYS)
    if since < until:
        return since, until
    if end:
        raise _Refused(f"--from {start} must be before --to {end}: the range is [from, to).")
    raise _Refused(
        f"--from {start} is not before today ({until.date().isoformat()}): give an earlier "
        "--from, or a --to after it."
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _target(out: Path) -> Path:
    """Refuse at once what cannot be written, before the database is opened."""
    if out.is_dir():
        raise _Refused(f"{_shown(str(out))} is a directory: name a file such as report.html.")
    folder = out.parent
    if not folder.is_dir():
        raise _Refused(f"there is no directory {_shown(str(folder))} to write the report in.")
    return out


def _team(teams: list[str], asked: str | None) -> str:
    """The workspace asked for, or the only one (as `baton import` chooses)."""
    try:
        return chosen_workspace(
            teams,
            asked,
            asked_shown=_shown(asked or ""),
            none_yet="Baton has not met a Slack workspace yet, so there is nothing to report: "
            "run `baton run` once.",
        )
    except NoWorkspace as none:
        raise _Refused(str(none)) from None


def _shown(text: str) -> str:
    """A value as a sentence can quote it: printable, and not too long."""
    clean = "".join(c if c.isprintable() else "?" for c in text)
    return clean if len(clean) <= SHOWN else clean[:SHOWN] + "…"


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
