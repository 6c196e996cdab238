"""`baton import FILE.csv [--dry-run] [--no-channels] [--request-packets] [--team T]`.

The file is read and every row checked before the database is even opened: a bad row
means a report and exit 1 with nothing written. Then the rows go in, 500 to a unit of
work, and (unless `--no-channels`) the new accounts' set-up in Slack is worked through the
rate budget, with a progress bar. Ctrl-C stops after the unit or the set-up in hand
(exit 130); the same command again continues. Exit 2: the configuration, the database, or
Slack itself is unusable (one sentence on stderr, as every `baton` command says it).
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from bot.crm.import_args import add_parser  # noqa: F401 (the command's arguments)
from bot.crm.importer import (
    Options,
    SetupDone,
    SetupView,
    Tally,
    Written,
    deliver_updates,
    predict,
    work_setup,
    write_rows,
)
from bot.platform.clock import Clock, system_clock
from bot.platform.services import Services
from bot.platform.settings import Settings, load_settings
from flows.crm.import_rows import (
    MAX_BYTES,
    MAX_ROWS,
    Checked,
    check_rows,
    count,
    read_table,
    renewal_passed,
    report,
    shown,
)
from flows.workspaces import NoWorkspace, chosen_workspace
from storage.migrate import at_head, upgrade
from storage.workspaces import workspace_ids

MakeServices = Callable[[Settings, Clock], Services]
Identify = Callable[[Services], Awaitable[None]]
INTERRUPTED = 130
PATH_SHOWN = 1000
SHOWN_ROWS = 10
LAYOUTS = {
    "baton": "Baton's own column names",
    "hubspot": "a HubSpot export",
    "salesforce": "a Salesforce export",
}


def run(
    args: argparse.Namespace,
    make_services: MakeServices,
    identify: Identify,
    *,
    settings: Settings | None = None,
    clock: Clock = system_clock,
    out: Console | None = None,
    err: Console | None = None,
) -> int:
    """The exit code: 0 done, 1 the file or a row is wrong (nothing written), 2 the
    workspace asked for is not one Baton is in, 130 Ctrl-C. Settings, database and Slack
    problems are raised as the other commands raise them (ConfigError and the rest)."""
    screen = _Screen(out or Console(highlight=False), err or Console(stderr=True, highlight=False))
    try:
        return asyncio.run(_main(args, make_services, identify, settings, clock, screen))
    except KeyboardInterrupt:
        screen.say(
            "Stopped. Whatever was written is whole (500 rows to a unit of work): run the "
            "same command again to continue."
        )
        return INTERRUPTED


async def run_within(
    args: argparse.Namespace, services: Services, identify: Identify, out: Console
) -> int:
    """`baton import` inside a program that is running already (the demo): its services,
    its event loop, its clock; what the command prints goes to `out`."""
    screen = _Screen(out, out)

    def same(_settings: Settings, _clock: Clock) -> Services:
        return services

    return await _main(
        args, same, identify, services.settings, services.clock, screen, owns_services=False
    )


class _Refused(Exception):
    """One sentence for stderr, and the exit code."""

    def __init__(self, sentence: str, code: int = 1) -> None:
        super().__init__(sentence)
        self.code = code


class _Screen:
    def __init__(self, out: Console, err: Console) -> None:
        self.out, self.err = out, err

    def say(self, line: str) -> None:
        self.out.print(line, markup=False, highlight=False, soft_wrap=True)

    def refuse(self, sentence: str) -> None:
        self.err.print(f"baton: {sentence}", markup=False, highlight=False, soft_wrap=True)


async def _main(
    args: argparse.Namespace,
    make_services: MakeServices,
    identify: Identify,
    settings: Settings | None,
    clock: Clock,
    screen: _Screen,
    *,
    owns_services: bool = True,
) -> int:
    try:
        path = Path(args.file)
        table = read_table(_read(path), shown(path.name))
        if isinstance(table, str):
            raise _Refused(table)
        settings = settings or load_settings()
        today = clock().astimezone(settings.timezone).date()
        checked = check_rows(table, settings.crm_mapping, today)
        if isinstance(checked, str):
            raise _Refused(f"{shown(path.name)}: {checked} Nothing was written.")
        if not checked.total:
            raise _Refused(f"{shown(path.name)} has a header row and no accounts under it.")
        _describe(screen, path, checked, today)
        if checked.problems:
            for line in report(checked):
                screen.say(line)
            return 1
        services = make_services(settings, clock)
        try:
            return await _import(args, services, identify, checked, path, screen)
        finally:
            if owns_services:
                services.engine.dispose()
    except _Refused as refused:
        screen.refuse(str(refused))
        return refused.code


def _read(path: Path) -> bytes:
    name = shown(str(path), PATH_SHOWN)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise _Refused(f"{name} is a directory, not a CSV file.")
        if size > MAX_BYTES:
            raise _Refused(
                f"{name} is {size / 1024 / 1024:.0f} MB; Baton imports files of up to "
                f"{MAX_BYTES // 1024 // 1024} MB ({MAX_ROWS:,} rows): split it and import each part."
            )
        return path.read_bytes()
    except FileNotFoundError:
        raise _Refused(f"there is no file {name}.") from None
    except OSError as exc:
        raise _Refused(f"{name} cannot be read ({exc.strerror or type(exc).__name__}).") from None


def _describe(screen: _Screen, path: Path, checked: Checked, today: date) -> None:
    layout = LAYOUTS.get(checked.layout.name, checked.layout.name)
    screen.say(f"{shown(path.name)}: {count(checked.total, 'row')}, in {layout}.")
    ignored = [shown(c) for c in checked.ignored if c]
    if ignored:
        screen.say(f"Ignored columns (no Baton field comes from them): {', '.join(ignored)}.")
    passed = renewal_passed(checked.rows, today)
    if passed:
        rows = ", ".join(str(n) for n in passed[:SHOWN_ROWS]) + (
            ", …" if len(passed) > SHOWN_ROWS else ""
        )
        screen.say(
            f"Note: {count(len(passed), 'account renews', 'accounts renew')} on a date already "
            f"past ({'row' if len(passed) == 1 else 'rows'} {rows}): every renewal milestone "
            "of that cycle is behind them, so "
            "none is sent; record the renewal in Slack, or correct renewal_date."
        )


async def _import(
    args: argparse.Namespace,
    services: Services,
    identify: Identify,
    checked: Checked,
    path: Path,
    screen: _Screen,
) -> int:
    slack = not args.dry_run and not args.no_channels
    if args.dry_run:
        current = await services.db.on_engine(at_head)
    else:
        await services.db.on_engine(upgrade)
        current = True
    if slack:
        services.settings.require("slack_bot_token")
        await identify(services)  # records the workspace; a refused token is one sentence
    teams = await services.db.run(workspace_ids) if current else []
    if not teams and not args.dry_run and services.settings.slack_bot_token:
        await identify(services)
        teams = await services.db.run(workspace_ids)
    if args.dry_run:
        team = _team(teams, args.team) if teams or args.team else None
        return _dry_run(screen, await predict(services, team, checked), team)
    team = _team(teams, args.team)
    options = Options(channels=slack, request_packets=args.request_packets, source=path.name)
    written = await _write(services, team, checked, options, screen)
    _written(screen, written.tally, options)
    if written.interrupted:
        screen.say(
            f"Interrupted: {written.batches} of {written.of_batches} batches are in "
            f"({written.tally.rows:,} of {checked.total:,} rows), the rest untouched. Run the "
            "same command again to continue: the rows already in are unchanged."
        )
        return INTERRUPTED
    if not slack:
        _final(screen, written.tally, None)
        return 0
    if written.tally.owed:
        await deliver_updates(services, written.tally.owed)
    done = await _set_up(services, team, written.tally.ids, screen)
    _final(screen, written.tally, done)
    return INTERRUPTED if done.interrupted else 0


def _team(teams: list[str], asked: str | None) -> str:
    """The webhook's rule (`team_id`): the workspace asked for, or the only one."""
    try:
        return chosen_workspace(
            teams,
            asked,
            asked_shown=shown(asked or ""),
            none_yet="Baton has not met a Slack workspace yet: set SLACK_BOT_TOKEN (the import "
            "asks Slack which workspace it is), or run `baton run` once.",
        )
    except NoWorkspace as none:
        raise _Refused(str(none), 2) from None


async def _write(
    services: Services, team: str, checked: Checked, options: Options, screen: _Screen
) -> Written:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=screen.out,
    ) as bar:
        task = bar.add_task("Writing accounts", total=len(checked.rows))
        return await write_rows(
            services, team, checked, options, lambda rows: bar.update(task, completed=rows)
        )


async def _set_up(services: Services, team: str, ids: list[int], screen: _Screen) -> SetupDone:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}"),
        console=screen.out,
    ) as bar:
        task = bar.add_task("Setting up in Slack", total=None, status="")
        return await work_setup(services, team, ids, lambda view: _show(bar, task, view))


def _show(bar: Progress, task: TaskID, view: SetupView) -> None:
    status = ""
    if view.stopping:
        status = "stopping once the accounts in hand are set up (Ctrl-C again stops at once)"
    elif view.waiting_s is not None:
        status = f"waiting {view.waiting_s:.0f} s for Slack's rate limits"
    bar.update(task, total=view.total, completed=view.done, status=status)


def _dry_run(screen: _Screen, tally: Tally, team: str | None) -> int:
    where = f" in {team}" if team else " (no workspace known yet: every account would be new)"
    screen.say(
        f"Dry run{where}: every row is good. Would create {tally.created:,} "
        f"({count(tally.new_handoffs, 'new handoff')}), update {tally.updated:,}"
        f"{' (' + _fields(tally).strip() + ')' if tally.fields else ''}, leave "
        f"{tally.unchanged:,} unchanged. Nothing was written."
    )
    if tally.older:
        screen.say(_older(tally))
    return 0


def _written(screen: _Screen, tally: Tally, options: Options) -> None:
    if tally.created:
        past = tally.created - tally.new_handoffs
        packets = "the packet asked for" if options.request_packets else "no packet asked for"
        screen.say(
            f"Of the {tally.created:,} created: {count(tally.new_handoffs, 'new handoff')} (as "
            f"if the CRM had just sent them); {past:,} past their handoff ({packets}, no gate "
            "or kickoff reminders, only what is still ahead of them)."
        )
    if tally.fields:
        screen.say(f"Updated, as a CRM update would:{_fields(tally)}.")
    if tally.older:
        screen.say(_older(tally))
    if tally.queued:
        screen.say(
            f"{count(tally.queued, 'account')} imported earlier without channels now queued "
            "for set-up."
        )


def _final(screen: _Screen, tally: Tally, done: SetupDone | None) -> None:
    counts = f"{tally.created:,} created, {tally.updated:,} updated, {tally.unchanged:,} unchanged"
    if done is None:
        screen.say(
            f"Done: {counts}; no channels (--no-channels): import the file again without it "
            "to set them up."
        )
        return
    screen.say(
        f"Done: {counts}; set up in Slack: {done.set_up:,}, still queued: {done.still_queued:,}."
    )
    if done.interrupted and done.still_queued:
        screen.say(
            "Interrupted: the queued accounts are set up by `baton run`, or by this command "
            "run again."
        )
    elif done.failing:
        screen.say(
            f"{done.failing:,} could not be set up yet (see `baton status`): `baton run` "
            "retries them, and so does this command run again."
        )
    elif done.still_queued:
        screen.say(
            "The rest are being set up by another Baton process, or wait their turn in its queue."
        )


def _fields(tally: Tally) -> str:
    if not tally.fields:
        return ""
    return " " + ", ".join(f"{name} on {n:,}" for name, n in sorted(tally.fields.items()))


def _older(tally: Tally) -> str:
    return (
        f"{tally.older:,} not updated: Baton has newer news of them from the CRM than the "
        "row's updated_at."
    )
