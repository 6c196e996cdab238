"""`baton import`: a CSV of accounts read, every row checked, the report, and where in its
life each account comes in. Pure: the file's bytes and today's date in, values out.

A book is brought in whole or not at all: every row is read and checked before anything
is written, and the report names each problem by row (as a spreadsheet numbers them: the
header is row 1) and by the file's own column name.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from flows.handoff import KICKOFF_DEADLINE_DAY
from flows.intake import ClosedWon, parse_closed_won

MAX_ROWS = 100_000
MAX_BYTES = 200 * 1024 * 1024  # far above 100,000 honest rows; a 10 MB cell still fits
# A deal whose contract started at most this many days ago (or starts later) comes in as
# a new handoff, as if the CRM had just sent it: the kickoff is still ahead of it.
NEW_HANDOFF_DAYS = KICKOFF_DEADLINE_DAY
# What an empty cell leaves as it is on a re-import: empty there means "not said", not zero
# (a new account still gets the closed-won defaults: ARR 0, renewal = start + term).
KEPT_WHEN_EMPTY = ("arr", "renewal_date")
SNIFF_CHARS = 65_536  # the header row is within this
SHOWN_MAX = 60  # characters of a column name or value quoted back in the report
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_EXCEL_ADVICE = 'save it from your spreadsheet as "CSV UTF-8" and import that file'


class Layout(Protocol):
    """Which column holds each closed-won field (flows.crm.mapping.Layout)."""

    name: str
    columns: dict[str, str]

    def body(self, row: Mapping[str, str]) -> dict[str, Any]: ...

    def column(self, field: str) -> str: ...


class Layouts(Protocol):
    def import_layout(self, header: Sequence[str]) -> Layout | str: ...


@dataclass(frozen=True)
class Table:
    """The file's header and its non-blank rows, each with its spreadsheet row number."""

    header: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str, ...]], ...]
    delimiter: str
    last_row: int  # the spreadsheet number of the file's last row, blank ones included


@dataclass(frozen=True)
class Problem:
    row: int
    column: str | None  # the file's column name; None: the row as a whole
    message: str

    def line(self) -> str:
        where = f"row {self.row}" + (f", column {shown(self.column)}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Row:
    """A row that passed: the deal, and which fields the row gave a value for."""

    number: int
    deal: ClosedWon
    given: frozenset[str]


@dataclass
class Checked:
    layout: Layout
    rows: list[Row] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # columns no field comes from
    total: int = 0  # the rows read (blank ones are not rows)

    @property
    def bad_rows(self) -> int:
        return len({p.row for p in self.problems})


def shown(text: str, limit: int = SHOWN_MAX) -> str:
    """Text from the file as the report may quote it: no control characters (a terminal
    would obey them), and not too long."""
    clean = _CONTROL.sub("?", text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


# --- reading --------------------------------------------------------------------------
def read_table(data: bytes, name: str) -> Table | str:
    """The CSV in `data` (UTF-8 with or without BOM; comma or semicolon; quoted cells;
    any line ending), or one sentence saying why it cannot be read."""
    if len(data) > MAX_BYTES:
        return (
            f"{name} is {len(data) / 1024 / 1024:.0f} MB; Baton imports files of up to "
            f"{MAX_BYTES // 1024 // 1024} MB ({MAX_ROWS:,} rows): split it and import each part."
        )
    text = _text(data, name)
    if not isinstance(text, str):
        return text.sentence
    if not text.strip():
        return (
            f"{name} is empty: it needs a header row naming its columns, then one row per account."
        )
    delimiter = sniff(text)
    with _cells_of_any_size(len(text)):
        return _table(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), name, delimiter
        )


def _table(records: Iterator[list[str]], name: str, delimiter: str) -> Table | str:
    header = tuple(cell.strip() for cell in next(records, []))
    if not any(header):
        return f"{name} has no header row: its first row is blank."
    twice = _repeated(header)
    if twice:
        return twice
    rows: list[tuple[int, tuple[str, ...]]] = []
    number = 1
    for number, cells in enumerate(records, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line, or a spreadsheet's empty row
        if len(rows) == MAX_ROWS:
            return (
                f"{name} has more than {MAX_ROWS:,} rows; split it into files of at most "
                f"{MAX_ROWS:,} rows and import each."
            )
        rows.append((number, tuple(cells)))
    return Table(header, tuple(rows), delimiter, number)


@dataclass(frozen=True)
class _Unreadable:
    sentence: str


def _text(data: bytes, name: str) -> str | _Unreadable:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _Unreadable(f"{name} is UTF-16 text, not UTF-8: {_EXCEL_ADVICE}.")
    if data.startswith(b"PK\x03\x04"):
        return _Unreadable(f"{name} is a spreadsheet workbook (.xlsx), not CSV: {_EXCEL_ADVICE}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        line = data.count(b"\n", 0, bad.start) + 1
        return _Unreadable(
            f"{name} is not UTF-8 text (byte 0x{data[bad.start]:02X} on line {line} is not "
            f"UTF-8): {_EXCEL_ADVICE}."
        )


def sniff(text: str) -> str:
    """Comma or semicolon: whichever the header row (outside quotes) holds more of."""
    counts = {",": 0, ";": 0}
    quoted = False
    for char in text[:SNIFF_CHARS]:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    return ";" if counts[";"] > counts[","] else ","


@contextmanager
def _cells_of_any_size(limit: int) -> Iterator[None]:
    """The csv module refuses a cell over 128 KB: a long cell is a problem of its row
    (checked against what its field may hold), never a crash of the whole read."""
    before = csv.field_size_limit()
    csv.field_size_limit(max(before, limit + 1))
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _repeated(header: tuple[str, ...]) -> str | None:
    seen: dict[str, int] = {}
    for index, column in enumerate(header, start=1):
        key = column.casefold()
        if column and key in seen:
            return (
                f"The header names the column {shown(column)} twice (columns {seen[key]} and "
                f"{index}): rename or remove one."
            )
        seen.setdefault(key, index)
    return None


# --- checking -------------------------------------------------------------------------
def check_rows(table: Table, layouts: Layouts, today: date) -> Checked | str:
    """Every row checked against the closed-won rules (`parse_closed_won`), plus what an
    import needs: a contract start (it places the account in its phase), each crm_id once,
    and no more cells than the header has columns. One sentence instead when the header
    itself does not fit."""
    layout = layouts.import_layout(table.header)
    if isinstance(layout, str):
        return layout
    if "contract_start" not in layout.columns:
        return (
            f"The file has no {layout.column('contract_start')} column: the import needs "
            "each account's contract start to place it in its phase (new handoff, or "
            "already handed off)."
        )
    used = set(layout.columns.values())
    checked = Checked(layout, ignored=[c for c in table.header if c not in used])
    first_row: dict[str, int] = {}
    for number, cells in table.rows:
        checked.total += 1
        _check_row(checked, table.header, number, cells, today, first_row)
    return checked


def _check_row(
    checked: Checked,
    header: tuple[str, ...],
    number: int,
    cells: tuple[str, ...],
    today: date,
    first_row: dict[str, int],
) -> None:
    layout = checked.layout
    extra = [cell for cell in cells[len(header) :] if cell.strip()]
    if extra:
        checked.problems.append(
            Problem(
                number,
                None,
                f"has {len(cells)} cells but the header has {len(header)} columns: a "
                "delimiter or quote is likely missing or extra.",
            )
        )
        return
    row = dict(zip(header, cells, strict=False))  # missing trailing cells: empty
    body = layout.body(row)
    deal = parse_closed_won(body, today)
    problems = [] if isinstance(deal, ClosedWon) else deal
    found = [Problem(number, layout.column(p.field), p.message) for p in problems]
    if "contract_start" not in body and not any(p.field == "contract_start" for p in problems):
        found.append(
            Problem(
                number,
                layout.column("contract_start"),
                "is required: the import places each account in its phase from it.",
            )
        )
    crm_id = body.get("crm_id")
    crm_id = crm_id.strip() if isinstance(crm_id, str) else None
    if crm_id:
        if crm_id in first_row:
            found.append(
                Problem(
                    number,
                    layout.column("crm_id"),
                    f"{shown(crm_id)} is also on row {first_row[crm_id]}: each account may "
                    "appear only once.",
                )
            )
        else:
            first_row[crm_id] = number
    order = {column: index for index, column in enumerate(header)}
    checked.problems += sorted(found, key=lambda p: order.get(p.column or "", -1))
    if not found and isinstance(deal, ClosedWon):
        checked.rows.append(Row(number, deal, frozenset(body)))


def report(checked: Checked) -> list[str]:
    """One line per problem, then the summary line."""
    problems = len(checked.problems)
    return [p.line() for p in checked.problems] + [
        f"{count(problems, 'problem')} in {checked.bad_rows:,} of {count(checked.total, 'row')}; "
        "nothing was written."
    ]


def count(n: int, noun: str, plural: str | None = None) -> str:
    """ "1 row", "2 rows", "1,200 rows"."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"


def renewal_passed(rows: Sequence[Row], today: date) -> list[int]:
    """The rows of accounts whose renewal date is already behind them."""
    return [row.number for row in rows if row.deal.renewal_date < today]


def kept_on_update(
    mapped: Collection[str], given: Collection[str], tracked: Sequence[str]
) -> set[str]:
    """The tracked fields a re-import leaves as the account has them: those the file has
    no column for, and an ARR or renewal date left empty."""
    return {
        name
        for name in tracked
        if name not in mapped or (name in KEPT_WHEN_EMPTY and name not in given)
    }


# --- where an account comes in --------------------------------------------------------
@dataclass(frozen=True)
class Placement:
    """How an imported account starts out in Baton.

    `new_handoff`: as if the CRM had just sent the deal (closed now; the packet asked for,
    the gate's reminders, the kickoff, the check-ins, all from now). Otherwise the deal
    closed on `closed_on` (its contract's start) and Baton learns of it in the middle of its
    life: the kickoff is behind it, the packet is asked for only if `packet_requested`,
    and what the planners would have owed before today is not owed: the planners skip a
    renewal milestone or the day-30 switch whose day has passed (`passed_before_known` in
    flows.checkins), the AE is copied only on the check-ins of the weeks still ahead, and a
    packet Baton did not collect is never to be rated."""

    new_handoff: bool
    closed_on: date | None
    packet_requested: bool
    day: int  # days since the contract started (negative: it starts later)


def place(contract_start: date, today: date, *, request_packets: bool) -> Placement:
    day = (today - contract_start).days
    if day <= NEW_HANDOFF_DAYS:
        return Placement(True, None, True, day)
    return Placement(False, contract_start, request_packets, day)
