"""`baton import FILE.csv`: an existing book brought in through the real command (`run`),
the real database and the sandbox Slack; the file's rules read directly (flows)."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import func, select

from bot.crm.import_cli import add_parser, run
from bot.outbox.tick import run_tick
from bot.platform.clock import system_clock
from bot.platform.settings import Settings
from bot.runtime.runner import identify, make_services
from flows.checkins import ae_copies_left, ae_is_copied, packet_collected, passed_before_known
from flows.crm.import_rows import (
    MAX_ROWS,
    check_rows,
    kept_on_update,
    place,
    read_table,
    report,
)
from flows.crm.mapping import load_mapping
from storage.accounts import account_by_crm
from storage.models import Account, Milestone, MilestoneStatus, OutboxMessage, OwnershipEvent
from storage.workspaces import remember_workspace
from tests.helpers import clean_env, containing, dm, find, row_counts, run_until, until

FIXTURES = Path(__file__).parent / "fixtures" / "import"
TODAY = date(2027, 1, 4)  # the simulated clock's day (conftest: MONDAY_10_NY)
TEAM = "T0SANDBOX"
HEADER = "crm_id,account_name,arr,contract_start,renewal_date,ae_email,csm_email,manager_email"


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="baton")
    add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["import", *argv])


async def baton_import(
    settings: Settings, clock, *argv: str, make=make_services, terminal: io.StringIO | None = None
) -> Ran:  # noqa: ANN001
    """`baton import …` as an operator runs it, on a thread of its own (its own event loop,
    as `asyncio.run` makes one) while this test's loop serves the sandbox Slack."""
    out, err = terminal or io.StringIO(), io.StringIO()
    code = await asyncio.to_thread(
        run,
        parse(*argv),
        make,
        identify,
        settings=settings,
        clock=clock,
        out=Console(file=out, width=200, force_terminal=terminal is not None),
        err=Console(file=err, width=200),
    )
    return Ran(code, out.getvalue(), err.getvalue())


def csv_file(tmp_path: Path, text: str | bytes, name: str = "accounts.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return str(path)


def rows_of(*lines: str) -> str:
    return "\n".join([HEADER, *lines]) + "\n"


def good(n: int, start: str = "2026-06-04", renewal: str = "2027-06-04", **cells: str) -> str:
    values = {
        "crm_id": f"D-{n}",
        "account_name": f"Account {n}",
        "arr": str(10000 + n),
        "contract_start": start,
        "renewal_date": renewal,
        "ae_email": "ana@example.test",
        "csm_email": "chen@example.test",
        "manager_email": "maya@example.test",
    } | cells
    return ",".join(values[name] for name in HEADER.split(","))


def account(db, crm_id: str) -> Account:  # noqa: ANN001
    found = db.run_sync(account_by_crm, TEAM, crm_id)
    assert found is not None, f"no account {crm_id}"
    return found


def scalars(db, statement):  # noqa: ANN001, ANN201
    return db.run_sync(lambda session: list(session.scalars(statement)))


@pytest.fixture
def workspace_known(db) -> None:  # noqa: ANN001
    """Baton has met the sandbox's workspace (a `baton run` did): --no-channels needs no Slack."""
    db.run_sync(remember_workspace, TEAM, "Sandbox", "UBOT", datetime.now(UTC))


# --- the file's rules (flows) ---------------------------------------------------------
def test_a_spreadsheets_csv_is_read_as_it_shows_it() -> None:
    """BOM, semicolons, CRLF, quoted cells holding the delimiter, a quote and a line break;
    a blank line and an empty spreadsheet row skipped, but counted as the spreadsheet
    numbers its rows."""
    data = (
        '\ufeffcrm_id;account_name;note\r\n"D-1";"Acme; ""Robotics""";"two\r\nlines"\r\n'
        "\r\n;;\r\nD-2;Beta;\r\n"
    ).encode()
    table = read_table(data, "a.csv")
    assert not isinstance(table, str)
    assert table.delimiter == ";" and table.header == ("crm_id", "account_name", "note")
    assert table.rows == (
        (2, ("D-1", 'Acme; "Robotics"', "two\r\nlines")),
        (5, ("D-2", "Beta", "")),
    )


@pytest.mark.parametrize(
    ("data", "sentence"),
    [
        (b"", "a.csv is empty: it needs a header row"),
        (b"\xef\xbb\xbf", "a.csv is empty"),
        (
            "crm_id,name\ncaf\xe9,x\n".encode("latin-1"),
            "a.csv is not UTF-8 text (byte 0xE9 on line 2",
        ),
        ("crm_id,name".encode("utf-16"), "a.csv is UTF-16 text, not UTF-8"),
        (b"PK\x03\x04\x14\x00\x06\x00", "a.csv is a spreadsheet workbook (.xlsx), not CSV"),
        (b",,\nD-1,a,b\n", "a.csv has no header row: its first row is blank."),
        (b"crm_id,Notes,notes\n", "The header names the column notes twice (columns 2 and 3)"),
    ],
)
def test_a_file_that_is_not_a_csv_is_one_sentence(data: bytes, sentence: str) -> None:
    said = read_table(data, "a.csv")
    assert isinstance(said, str) and said.startswith(sentence), said
    assert said.endswith(".") and "\n" not in said


def test_more_than_100000_rows_are_refused_in_one_sentence() -> None:
    data = b"crm_id\n" + b"x\n" * (MAX_ROWS + 1)
    said = read_table(data, "a.csv")
    assert said == (
        "a.csv has more than 100,000 rows; split it into files of at most 100,000 rows and "
        "import each."
    )
    table = read_table(b"crm_id\n" + b"x\n" * MAX_ROWS, "a.csv")
    assert not isinstance(table, str) and len(table.rows) == MAX_ROWS


def test_every_problem_of_every_row_is_reported_by_row_and_column() -> None:
    table = read_table((FIXTURES / "bad_rows.csv").read_bytes(), "bad_rows.csv")
    checked = check_rows(table, load_mapping(), TODAY)
    assert not isinstance(checked, str)
    assert checked.ignored == ["region"]
    assert report(checked) == [
        "row 3, column csm_email: must be an email address such as ana@example.com.",
        "row 4, column arr: must be a number from 0 to 999999999999.99.",
        "row 4, column contract_start: must be an ISO date such as 2027-01-31.",
        "row 6, column crm_id: D-1 is also on row 2: each account may appear only once.",
        "row 7, column contract_start: is required: the import places each account in its "
        "phase from it.",
        "row 7, column csm_email: must be a different person from the AE.",
        "row 8: has 9 cells but the header has 8 columns: a delimiter or quote is likely "
        "missing or extra.",
        "7 problems in 5 of 6 rows; nothing was written.",
    ]
    assert [r.number for r in checked.rows] == [2]


def test_a_crm_export_is_read_through_the_mapping_and_reported_in_its_own_columns() -> None:
    table = read_table((FIXTURES / "hubspot_export.csv").read_bytes(), "export.csv")
    checked = check_rows(table, load_mapping(), TODAY)
    assert not isinstance(checked, str) and checked.layout.name == "hubspot"
    assert checked.ignored == ["Pipeline"] and not checked.problems
    globex, umbrella = (row.deal for row in checked.rows)
    assert (globex.crm_id, globex.account_name, str(globex.arr)) == (
        "9001",
        "Globex; Europe",
        "1250000.00",
    )
    assert (globex.contract_start, globex.renewal_date) == (date(2026, 6, 4), date(2027, 6, 4))
    assert (umbrella.account_name, umbrella.currency) == ('Umbrella "Health"', "EUR")
    assert umbrella.renewal_date == date(2028, 1, 1)  # the mapping's 12-month term
    bad = (FIXTURES / "hubspot_export.csv").read_text("utf-8-sig").replace("chen@", "chen-at-", 1)
    checked = check_rows(read_table(bad.encode(), "export.csv"), load_mapping(), TODAY)
    assert report(checked)[0] == (
        "row 2, column CSM email: must be an email address such as ana@example.com."
    )


def test_a_header_without_the_required_columns_is_one_sentence() -> None:
    table = read_table(
        b"crm_id,account_name,ae_email,contract_start\nD-1,A,a@x.test,2027-01-01\n", "a"
    )
    said = check_rows(table, load_mapping(), TODAY)
    assert isinstance(said, str) and '"csm_email"' in said and "\n" not in said
    table = read_table(b"crm_id,account_name,ae_email,csm_email\nD-1,A,a@x.test,c@x.test\n", "a")
    said = check_rows(table, load_mapping(), TODAY)
    assert isinstance(said, str) and said.startswith("The file has no contract_start column")


def test_hostile_cells_are_problems_of_their_row_never_a_crash() -> None:
    huge = "x" * 10_000_000
    lines = [
        "crm_id,account_name,ae_email,csm_email,contract_start,notes\x1b[2J",
        f"D-1,{huge},ana@example.test,chen@example.test,2026-06-04,",
        "D-2,Nul\x00Name,ana@example.test,chen@example.test,2026-06-04,",
        f"D-3,Fine,ana@example.test,chen@example.test,2026-06-04,{huge}",
        'D-4,"=HYPERLINK(""https://evil.test"",""click"")",ana@example.test,chen@example.test,2026-06-04,',
        'D-5,"unclosed,ana@example.test,chen@example.test,2026-06-04,',
    ]
    checked = check_rows(read_table("\n".join(lines).encode(), "a"), load_mapping(), TODAY)
    assert not isinstance(checked, str)
    lines = report(checked)
    assert lines[0] == "row 2, column account_name: must be at most 200 characters."
    assert lines[1] == (
        "row 3, column account_name: must not contain NUL characters or unpaired surrogates."
    )
    assert lines[2].startswith("row 6, column ")  # the unclosed quote swallowed the rest
    assert [r.deal.crm_id for r in checked.rows] == ["D-3", "D-4"]
    assert checked.rows[1].deal.account_name == '=HYPERLINK("https://evil.test","click")'
    assert checked.ignored == ["notes\x1b[2J"]  # kept as it is; shown without the escape


@pytest.mark.parametrize(
    ("start", "new_handoff"),
    [
        (date(2027, 2, 1), True),  # starts later: just signed
        (date(2027, 1, 1), True),  # 3 days ago
        (date(2026, 12, 28), True),  # day 7: the kickoff is still due today
        (date(2026, 12, 27), False),  # day 8: past the kickoff
        (date(2026, 6, 4), False),  # month 7
    ],
)
def test_where_an_imported_deal_comes_in(start: date, new_handoff: bool) -> None:
    placed = place(start, TODAY, request_packets=False)
    assert placed.new_handoff is new_handoff
    assert placed.packet_requested is new_handoff
    assert placed.closed_on == (None if new_handoff else start)
    assert place(start, TODAY, request_packets=True).packet_requested


def test_the_ae_is_copied_on_the_check_ins_of_the_first_four_weeks_only() -> None:
    closed = date(2026, 12, 1)
    assert ae_copies_left(closed, closed) == 4
    assert ae_copies_left(closed, closed + timedelta(days=13)) == 3
    assert ae_copies_left(closed, closed + timedelta(days=14)) == 2
    assert ae_copies_left(closed, closed + timedelta(days=28)) == 0
    assert ae_copies_left(closed, closed + timedelta(days=210)) == 0
    assert [n for n in range(1, 7) if ae_is_copied(n, closed, closed)] == [1, 2, 3, 4]
    week_2 = closed + timedelta(days=14)
    assert [n for n in range(1, 7) if ae_is_copied(n, closed, week_2)] == [1, 2]


def test_what_passed_before_baton_knew_of_an_account_is_not_owed() -> None:
    known = datetime(2027, 1, 4, 15, tzinfo=UTC)
    assert passed_before_known(date(2027, 1, 3), known.date())
    assert not passed_before_known(known.date(), known.date())  # today: still owed
    assert packet_collected(None, known)  # still to be asked for: Baton collects it
    assert packet_collected(known + timedelta(days=2), known)
    assert not packet_collected(known - timedelta(days=200), known)  # handed off before


def test_a_reimport_leaves_what_the_file_does_not_say() -> None:
    tracked = ("renewal_date", "arr", "ae_email", "csm_email", "am_email", "manager_email")
    mapped = {"crm_id", "arr", "renewal_date", "ae_email", "csm_email", "am_email"}
    assert kept_on_update(mapped, {"arr", "ae_email", "csm_email"}, tracked) == {
        "renewal_date",  # its cell was empty
        "manager_email",  # no column: said nothing
    }  # an empty am_email cell says "no AM": cleared, as a CRM update would


# --- the command -----------------------------------------------------------------------
async def test_a_bad_row_writes_nothing_and_every_problem_is_reported(
    settings, clock, db, tmp_path, sandbox, workspace_known
) -> None:  # noqa: ANN001
    before = row_counts(db.engine)
    ran = await baton_import(settings, clock, str(FIXTURES / "bad_rows.csv"))
    assert ran.code == 1, ran
    lines = ran.out.splitlines()
    assert lines[0] == "bad_rows.csv: 6 rows, in Baton's own column names."
    assert lines[1] == "Ignored columns (no Baton field comes from them): region."
    assert lines[-1] == "7 problems in 5 of 6 rows; nothing was written."
    assert "row 3, column csm_email: must be an email address such as ana@example.com." in lines
    assert row_counts(db.engine) == before
    assert sandbox.calls == []  # not even the database's workspace was asked of Slack


@pytest.mark.parametrize(
    ("content", "sentence"),
    [
        ("caf\xe9".encode("latin-1"), "baton: accounts.csv is not UTF-8 text"),
        (b"crm_id,account_name\nD-1,A\n", "baton: accounts.csv: The header matches no layout"),
        (HEADER.encode() + b"\n\n", "baton: accounts.csv has a header row and no accounts"),
    ],
)
async def test_a_file_baton_cannot_read_is_one_sentence_and_exit_1(
    settings, clock, db, tmp_path, content, sentence, workspace_known
) -> None:  # noqa: ANN001
    before = row_counts(db.engine)
    ran = await baton_import(settings, clock, csv_file(tmp_path, content))
    assert ran.code == 1 and ran.out == ""
    assert ran.err.startswith(sentence) and len(ran.err.strip().splitlines()) == 1, ran.err
    assert "Traceback" not in ran.err and row_counts(db.engine) == before


async def test_hostile_cells_through_the_command_write_nothing_and_never_crash(
    settings, clock, db, tmp_path, workspace_known
) -> None:  # noqa: ANN001
    huge = "x" * 10_000_000
    bad = rows_of(good(1, account_name=huge), good(2, csm_email="chen\x00@example.test"))
    before = row_counts(db.engine)
    ran = await baton_import(settings, clock, csv_file(tmp_path, bad), "--no-channels")
    assert ran.code == 1 and ran.err == "", ran.err
    assert ran.out.splitlines()[-3:] == [
        "row 2, column account_name: must be at most 200 characters.",
        "row 3, column csm_email: must not contain NUL characters or unpaired surrogates.",
        "2 problems in 2 of 2 rows; nothing was written.",
    ]
    assert row_counts(db.engine) == before
    header = HEADER + ",notes\x1b]0;pwned\x07"
    fine = "\n".join([header, good(1) + "," + huge, good(2) + ",\"=cmd|'/C calc'!A0\""]) + "\n"
    ran = await baton_import(settings, clock, csv_file(tmp_path, fine, "fine.csv"), "--no-channels")
    assert ran.code == 0, ran.err
    assert "Ignored columns (no Baton field comes from them): notes?]0;pwned?." in ran.out
    assert "\x1b" not in ran.out and "\x07" not in ran.out
    assert "Done: 2 created" in ran.out


async def test_a_missing_file_is_one_sentence(settings, clock, tmp_path) -> None:  # noqa: ANN001
    ran = await baton_import(settings, clock, str(tmp_path / "nope.csv"))
    assert (ran.code, ran.err.strip()) == (1, f"baton: there is no file {tmp_path / 'nope.csv'}.")


async def test_without_channels_the_book_goes_in_and_the_same_file_again_writes_nothing(
    settings, clock, db, tmp_path, sandbox, workspace_known
) -> None:  # noqa: ANN001
    path = csv_file(tmp_path, rows_of(*(good(n) for n in range(1, 1201))))
    ran = await baton_import(settings, clock, path, "--no-channels")
    assert ran.code == 0, ran
    assert "Done: 1,200 created, 0 updated, 0 unchanged; no channels (--no-channels)" in ran.out
    counts = row_counts(db.engine)
    assert counts["accounts"] == 1200 and counts["ownership_events"] == 1200
    events = scalars(
        db, select(OwnershipEvent).where(OwnershipEvent.account_id == account(db, "D-7").id)
    )
    assert [(e.cause, e.note) for e in events] == [("CSV import", "accounts.csv, row 8")]
    assert account(db, "D-7").setup_due_at is None and account(db, "D-7").channel_id is None
    again = await baton_import(settings, clock, path, "--no-channels")
    assert again.code == 0 and "Done: 0 created, 0 updated, 1,200 unchanged" in again.out
    assert row_counts(db.engine) == counts
    assert sandbox.calls == []


async def test_a_dry_run_says_what_would_change_and_writes_nothing(
    settings, clock, db, tmp_path, sandbox, workspace_known
) -> None:  # noqa: ANN001
    first = csv_file(tmp_path, rows_of(good(1), good(2)), "first.csv")
    assert (await baton_import(settings, clock, first, "--no-channels")).code == 0
    before = row_counts(db.engine)
    lapsed = good(4, start="2025-06-01", renewal="2026-06-01")
    path = csv_file(
        tmp_path, rows_of(good(1), good(2, arr="99000"), good(3, start="2027-01-01"), lapsed)
    )
    ran = await baton_import(settings, clock, path, "--dry-run")
    assert ran.code == 0, ran
    assert (
        "Note: 1 account renews on a date already past (row 5): every renewal milestone of "
        "that cycle is behind them, so none is sent; record the renewal in Slack, or correct "
        "renewal_date."
    ) in ran.out
    assert (
        "Dry run in T0SANDBOX: every row is good. Would create 2 (1 new handoff), update 1 "
        "(arr on 1), leave 1 unchanged. Nothing was written."
    ) in ran.out
    assert row_counts(db.engine) == before and sandbox.calls == []


async def test_several_workspaces_need_team(settings, clock, db, tmp_path) -> None:  # noqa: ANN001
    for team in ("T1", "T2"):
        db.run_sync(remember_workspace, team, team, "UBOT", datetime.now(UTC))
    path = csv_file(tmp_path, rows_of(good(1)))
    ran = await baton_import(settings, clock, path, "--no-channels")
    assert ran.code == 2 and ran.err.strip() == (
        "baton: Baton is installed in several workspaces (T1, T2): say which with --team."
    )
    ran = await baton_import(settings, clock, path, "--no-channels", "--team", "T9")
    assert ran.code == 2 and "--team T9 is not a workspace Baton is installed in" in ran.err
    ran = await baton_import(settings, clock, path, "--no-channels", "--team", "T2")
    assert ran.code == 0 and db.run_sync(account_by_crm, "T2", "D-1") is not None
    assert db.run_sync(account_by_crm, "T1", "D-1") is None


async def test_each_account_comes_in_in_its_current_phase(
    settings, clock, db, sandbox, people, sim_bot
) -> None:  # noqa: ANN001
    """Acme is at month 7, Northwind closed 3 days ago, Initech renews in 100 days."""
    ran = await baton_import(settings, clock, str(FIXTURES / "sample.csv"))
    assert ran.code == 0, ran
    assert "Of the 3 created: 1 new handoff (as if the CRM had just sent them); 2 past" in ran.out
    assert "set up in Slack: 3, still queued: 0." in ran.out
    await run_tick(sim_bot.services)
    workspace = sandbox.workspace
    acme, northwind, initech = (account(db, c) for c in ("D-1001", "D-1002", "D-1003"))
    # Month 7: handed off before Baton knew of it. No packet asked for, no gate, no
    # kickoff, no month-5 flag; its trail says where it came from.
    assert acme.status == "handed_off" and acme.closed_at.date() == date(2026, 6, 4)
    channel = workspace.channel_by_name("acct-acme-robotics")
    assert channel is not None and people.csm.id in channel.members
    welcome = json.dumps(find(channel, "Welcome, Acme Robotics").blocks)
    assert f"*Right now* the CSM <@{people.csm.id}> is the primary owner of Acme Robotics" in (
        welcome
    )
    assert "until the handoff packet is complete" not in welcome
    assert not containing(channel, "The handoff packet for Acme Robotics is due")
    assert not [m for m in dm(sandbox, people.ae).messages if "Acme Robotics" in m.text]
    owed = scalars(db, select(OutboxMessage).where(OutboxMessage.account_id == acme.id))
    kinds = {m.kind for m in owed}
    assert not kinds & {"gate_reminder", "gate_escalation", "kickoff_reminder", "checkin_prompt"}
    steps = {
        m.key: m for m in scalars(db, select(Milestone).where(Milestone.account_id == acme.id))
    }
    assert steps["month-5"].status == MilestoneStatus.SKIPPED
    assert steps["day-120"].status == MilestoneStatus.OPEN
    assert not [m for m in owed if m.milestone_id == steps["month-5"].id]
    # Three days old: a normal new handoff, as if the CRM had just sent it.
    assert northwind.status == "handoff_pending" and northwind.closed_at == clock()
    channel = workspace.channel_by_name("acct-northwind-foods")
    assert find(channel, "The handoff packet for Northwind Foods is due.")
    welcome = json.dumps(find(channel, "Welcome, Northwind Foods").blocks)
    assert f"*Right now* the AE <@{people.ae.id}> owns Northwind Foods until the handoff " in (
        welcome
    )
    assert [m for m in dm(sandbox, people.ae).messages if "Northwind Foods" in m.text]
    owed = scalars(db, select(OutboxMessage.kind).where(OutboxMessage.account_id == northwind.id))
    assert "gate_reminder" in owed and "kickoff_reminder" in owed
    # Renews in 100 days: no day-120 business review, the day-90 meeting nudged.
    steps = {
        m.key: m for m in scalars(db, select(Milestone).where(Milestone.account_id == initech.id))
    }
    assert steps["day-120"].status == MilestoneStatus.SKIPPED
    nudged = scalars(
        db, select(OutboxMessage.milestone_id).where(OutboxMessage.account_id == initech.id)
    )
    assert steps["day-90"].id in nudged and steps["day-120"].id not in nudged
    # Each trail starts with the import; the set-up adds who was found in Slack, never a
    # "closed-won" (Baton did not see them close).
    for crm_id in ("D-1001", "D-1002", "D-1003"):
        events = scalars(
            db, select(OwnershipEvent).where(OwnershipEvent.account_id == account(db, crm_id).id)
        )
        assert events[0].cause == "CSV import" and events[0].note.startswith("sample.csv, row ")
        assert [e.cause for e in events] == ["CSV import", "found in Slack"]
        assert (events[1].ae_user_id, events[1].csm_user_id) == (people.ae.id, people.csm.id)


async def import_one(settings, clock, tmp_path: Path, start: str, *argv: str) -> None:  # noqa: ANN001
    path = csv_file(tmp_path, rows_of(good(1, start=start, account_name="Acme Robotics")))
    ran = await baton_import(settings, clock, path, *argv)
    assert ran.code == 0 and "set up in Slack: 1, still queued: 0." in ran.out, ran


async def test_day_30_gone_by_before_the_import_is_not_sent_late(
    settings, clock, db, tmp_path, sandbox, people, sim_bot
) -> None:  # noqa: ANN001
    """Imported at day 33: day 30 (Fri 1 Jan) is behind it, though not a week old. Neither
    the channel's day-30 note nor a rating request (of a packet Baton never had) goes out."""
    await import_one(settings, clock, tmp_path, "2026-12-02")
    await run_until(sim_bot, clock, clock() + timedelta(days=8))
    found = account(db, "D-1")
    kinds = scalars(db, select(OutboxMessage.kind).where(OutboxMessage.account_id == found.id))
    assert not {"day30", "rating_request"} & set(kinds), kinds
    assert "checkin_prompt" in kinds  # week 5's and 6's prompts are still ahead of it
    channel = sandbox.workspace.channel_by_name("acct-acme-robotics")
    assert not containing(channel, "Day 30 for Acme Robotics")
    assert not containing(dm(sandbox, people.csm), "Rate the handoff packet")


@pytest.mark.parametrize("request_packets", [False, True])
async def test_day_30_still_ahead_comes_and_asks_to_rate_only_a_packet_baton_collected(
    settings, clock, db, tmp_path, sandbox, people, sim_bot, request_packets
) -> None:  # noqa: ANN001
    """Imported at day 20, handed off before Baton knew of it: its day 30 (Thu 14 Jan) is
    Baton's to mark, but there is no packet to rate. With --request-packets there is."""
    argv = ["--request-packets"] if request_packets else []
    await import_one(settings, clock, tmp_path, "2026-12-15", *argv)
    await run_until(sim_bot, clock, datetime(2027, 1, 14, 12, tzinfo=UTC))
    channel = sandbox.workspace.channel_by_name("acct-acme-robotics")
    assert find(channel, "Day 30 for Acme Robotics")
    rating = containing(dm(sandbox, people.csm), "Rate the handoff packet for Acme Robotics")
    assert len(rating) == int(request_packets)


async def log_checkin(driver, sandbox, user, channel, summary: str) -> None:  # noqa: ANN001
    before = set(sandbox.workspace.views)
    await driver.command(user, "checkin acme", channel=channel)
    view = next(v for k, v in sandbox.workspace.views.items() if k not in before)
    values = {"summary": summary, "sentiment": "positive", "next_steps": "Carry on."}
    reply = await driver.submit(user, view, values)
    assert reply.status == 200 and not reply.text, reply.text


@pytest.mark.parametrize(
    ("start", "copied", "owner"),
    [
        ("2026-12-21", ["1", "2"], "owns Acme Robotics, with the AE"),  # week 2: two to go
        ("2026-06-04", [], "is the primary owner of Acme Robotics"),  # month 7: none
    ],
)
async def test_the_ae_is_copied_only_on_the_check_ins_of_weeks_still_ahead(
    settings, clock, db, tmp_path, sandbox, people, sim_bot, sim_driver, start, copied, owner
) -> None:  # noqa: ANN001
    await import_one(settings, clock, tmp_path, start)
    channel = sandbox.workspace.channel_by_name("acct-acme-robotics")
    assert f"*Right now* the CSM <@{people.csm.id}> {owner}" in json.dumps(
        find(channel, "Welcome, Acme Robotics").blocks
    )
    for week in range(1, 4):
        await log_checkin(sim_driver, sandbox, people.csm, channel, f"Week {week}: fine.")
        clock.advance(timedelta(days=7))
    assert len(containing(channel, "Check-in #")) == 3
    await run_tick(sim_bot.services)
    copies = [
        m.text.split("#")[1].split(" ")[0]
        for m in dm(sandbox, people.ae).messages
        if m.text.startswith("FYI, no action needed")
    ]
    assert copies == copied


async def test_request_packets_asks_for_the_packet_of_an_older_deal(
    settings, clock, db, tmp_path, sandbox, people
) -> None:  # noqa: ANN001
    path = csv_file(tmp_path, rows_of(good(7, account_name="Month Seven")))
    ran = await baton_import(settings, clock, path, "--request-packets")
    assert ran.code == 0, ran
    found = account(db, "D-7")
    assert found.status == "handoff_pending" and found.packet_completed_at is None
    assert found.closed_at.date() == date(2026, 6, 4)  # still month 7: no new kickoff
    channel = sandbox.workspace.channel_by_name("acct-month-seven")
    assert find(channel, "The handoff packet for Month Seven is due.")


async def test_the_same_file_twice_changes_nothing_anywhere(
    settings, clock, db, sandbox, people
) -> None:  # noqa: ANN001
    path = str(FIXTURES / "sample.csv")
    assert (await baton_import(settings, clock, path)).code == 0
    counts, calls = row_counts(db.engine), len(sandbox.calls_of("conversations.create"))
    stamps = {a.crm_id: a.updated_at for a in scalars(db, select(Account))}
    ran = await baton_import(settings, clock, path)
    assert (
        ran.code == 0 and "Done: 0 created, 0 updated, 3 unchanged; set up in Slack: 0" in ran.out
    )
    assert row_counts(db.engine) == counts
    assert len(sandbox.calls_of("conversations.create")) == calls
    assert {a.crm_id: a.updated_at for a in scalars(db, select(Account))} == stamps


async def test_a_reimport_updates_as_a_crm_update_would(
    settings, clock, db, tmp_path, sandbox, people
) -> None:  # noqa: ANN001
    first = csv_file(tmp_path, rows_of(good(1, account_name="Acme Robotics")), "first.csv")
    assert (await baton_import(settings, clock, first)).code == 0
    nadia = sandbox.workspace.add_user(
        "nadia", "Nadia Okafor", "nadia@example.test", "Africa/Lagos"
    )
    changed = rows_of(
        good(
            1,
            account_name="Renamed",
            arr="95000",
            renewal="2027-09-30",
            csm_email="nadia@example.test",
        )
    )
    ran = await baton_import(settings, clock, csv_file(tmp_path, changed, "second.csv"))
    assert ran.code == 0, ran
    assert "Done: 0 created, 1 updated, 0 unchanged" in ran.out
    assert "arr on 1, csm_email on 1, renewal_date on 1" in ran.out
    found = account(db, "D-1")
    assert (found.arr, found.renewal_date) == (95000, date(2027, 9, 30))
    assert found.name == "Acme Robotics"  # a CRM update changes what it tracks only
    channel = sandbox.workspace.channel_by_name("acct-acme-robotics")
    assert find(channel, "The CRM updated")
    assert nadia.id in channel.members and "2027-09-30" in channel.topic
    causes = [
        e.cause
        for e in scalars(db, select(OwnershipEvent).where(OwnershipEvent.account_id == found.id))
    ]
    assert causes[0] == "CSV import" and causes.count("CSV import") == 2, causes
    assert "CRM update" not in causes and "closed-won" not in causes
    # A file without an ARR column, its renewal date left empty: both stay as they are.
    narrow = "crm_id,account_name,ae_email,csm_email,contract_start,renewal_date\n"
    narrow += "D-1,Acme,ana@example.test,nadia@example.test,2026-06-04,\n"
    ran = await baton_import(settings, clock, csv_file(tmp_path, narrow, "third.csv"))
    assert ran.code == 0 and "0 updated, 1 unchanged" in ran.out
    assert (account(db, "D-1").arr, account(db, "D-1").renewal_date) == (95000, date(2027, 9, 30))


async def test_formula_text_is_kept_as_text_and_escaped_in_slack(
    settings, clock, db, tmp_path, sandbox, people
) -> None:  # noqa: ANN001
    name = '=HYPERLINK("https://evil.test","<!channel> click")'
    quoted = '"' + name.replace('"', '""') + '"'
    path = csv_file(tmp_path, rows_of(good(1, account_name=quoted)))
    ran = await baton_import(settings, clock, path)
    assert ran.code == 0, ran
    assert account(db, "D-1").name == name
    channel = next(c for c in sandbox.workspace.channels.values() if c.name.startswith("acct-"))
    welcome = find(channel, "HYPERLINK")
    assert "<!channel>" not in welcome.text and "&lt;!channel&gt;" in welcome.text


async def test_a_budget_wait_is_shown_and_sat_out(
    settings, clock, db, tmp_path, sandbox, people
) -> None:  # noqa: ANN001
    """Slack said Retry-After 30 to someone else just before: the set-up waits it out (by
    the clock the budget keeps), says so on the progress bar, then carries on."""

    def held_back(settings: Settings, clock):  # noqa: ANN001, ANN202
        services = make_services(settings, clock)
        services.budget.team_id = TEAM  # on PostgreSQL the budget is the workspace's
        with ThreadPoolExecutor(1) as pool:
            pool.submit(
                asyncio.run, services.budget.hold_off("conversations.create", None, 30)
            ).result()
        return services

    terminal = io.StringIO()
    path = csv_file(tmp_path, rows_of(good(1)))
    importing = asyncio.ensure_future(
        baton_import(settings, clock, path, make=held_back, terminal=terminal)
    )
    await until(lambda: "for Slack's rate limits" in terminal.getvalue() or importing.done())
    assert not importing.done(), importing.result()
    assert account(db, "D-1").setup_due_at > clock()  # postponed by the budget's wait
    clock.advance(timedelta(seconds=31))
    ran = await importing
    assert ran.code == 0 and "set up in Slack: 1, still queued: 0." in ran.out
    assert account(db, "D-1").channel_id is not None


# --- Ctrl-C -----------------------------------------------------------------------------
LAUNCH = """
import argparse, sys
from bot.crm.import_cli import add_parser, run
from bot.runtime.runner import identify, make_services
parser = argparse.ArgumentParser(prog="baton")
add_parser(parser.add_subparsers(dest="command", required=True))
sys.exit(run(parser.parse_args(sys.argv[1:]), make_services, identify))
"""


async def start_import(
    tmp_path: Path, env: dict[str, str], *argv: str
) -> asyncio.subprocess.Process:
    """`baton import` as a process of its own (Ctrl-C is a signal to a process)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        LAUNCH,
        "import",
        *argv,
        cwd=tmp_path,
        env=clean_env(**env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


def count(db, model) -> int:  # noqa: ANN001
    return db.run_sync(lambda session: session.scalar(select(func.count()).select_from(model)))


@pytest.mark.slow
async def test_ctrl_c_while_writing_leaves_whole_batches_and_a_rerun_continues(
    settings, database_url, db, tmp_path, workspace_known
) -> None:  # noqa: ANN001
    path = csv_file(tmp_path, rows_of(*(good(n) for n in range(10_000))))
    process = await start_import(tmp_path, {"DATABASE_URL": database_url}, path, "--no-channels")
    await until(lambda: count(db, Account) > 0 or process.returncode is not None)
    process.send_signal(signal.SIGINT)
    out, err = (b.decode() for b in await asyncio.wait_for(process.communicate(), 120))
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err and "Interrupted: " in out
    written = count(db, Account)
    assert 0 < written < 10_000 and written % 500 == 0  # whole batches only
    assert count(db, OwnershipEvent) == written  # each account with its trail
    ran = await baton_import(settings, system_clock, path, "--no-channels")
    assert ran.code == 0
    assert f"Done: {10_000 - written:,} created, 0 updated, {written:,} unchanged" in ran.out
    assert count(db, Account) == 10_000


@pytest.mark.slow
async def test_ctrl_c_while_setting_up_leaves_no_channel_unrecorded_and_a_rerun_finishes(
    settings, database_url, db, tmp_path, sandbox, people
) -> None:  # noqa: ANN001
    path = csv_file(tmp_path, rows_of(*(good(n) for n in range(21))))
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": sandbox.workspace.bot_token,
        "SLACK_API_URL": sandbox.api_url,
    }
    process = await start_import(tmp_path, env, path)
    await until(lambda: sandbox.calls_of("conversations.create") or process.returncode is not None)
    process.send_signal(signal.SIGINT)
    out, err = (b.decode() for b in await asyncio.wait_for(process.communicate(), 120))
    assert process.returncode == 130, (out, err)
    assert "Traceback" not in err
    assert "Interrupted: the queued accounts are set up by `baton run`" in out
    accounts = scalars(db, select(Account))
    channels = [c for c in sandbox.workspace.channels.values() if c.name.startswith("acct-")]
    assert len(accounts) == 21 and 0 < len([a for a in accounts if a.setup_due_at]) < 21
    assert {c.id for c in channels} == {a.channel_id for a in accounts if a.channel_id}
    ran = await baton_import(settings, system_clock, path)
    assert ran.code == 0 and "still queued: 0." in ran.out, ran
    channels = [c for c in sandbox.workspace.channels.values() if c.name.startswith("acct-")]
    assert len(channels) == 21 and all(a.channel_id for a in scalars(db, select(Account)))


async def test_an_ops_email_column_names_each_accounts_ops_person(
    settings, clock, db, tmp_path, sandbox, workspace_known
) -> None:  # noqa: ANN001
    header = HEADER + ",ops_email"
    text = "\n".join(
        [header, good(1) + ",oli@example.test", good(2) + ",", good(3) + ",not-an-email"]
    )
    bad = await baton_import(settings, clock, csv_file(tmp_path, text + "\n"), "--no-channels")
    assert bad.code == 1
    assert "row 4, column ops_email: must be an email address such as ana@example.com." in bad.out
    ran = await baton_import(
        settings, clock, csv_file(tmp_path, "\n".join(text.split("\n")[:3]) + "\n"), "--no-channels"
    )
    assert ran.code == 0, ran
    assert account(db, "D-1").ops_email == "oli@example.test"
    assert account(db, "D-2").ops_email is None


def test_a_salesforce_export_names_the_ops_person_by_its_column() -> None:
    header = "Opportunity ID,Account Name,Close Date,Owner Email,CSM Email,Ops Email"
    row = "006A,Initech,2026-06-04,ana@example.test,chen@example.test,oli@example.test"
    table = read_table(f"{header}\n{row}\n".encode(), "export.csv")
    checked = check_rows(table, load_mapping(), TODAY)
    assert not isinstance(checked, str) and checked.layout.name == "salesforce"
    assert not checked.problems and checked.rows[0].deal.ops_email == "oli@example.test"
