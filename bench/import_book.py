"""`baton import` of a whole book with `--no-channels`: how long do 20,000 rows take, from
the command's start to its exit (reading, checking every row, writing 500 to a unit), and
the same file again (every row unchanged), and a dry run of it?

The import runs as a process of its own, as an operator runs it (`baton import`), on a fresh SQLite file in a
temporary directory (or an empty database given with --database-url). The book is a
realistic one: 60 AEs and 90 CSMs, contract starts spread over the last two years and
the next month (so some rows are new handoffs), an AM on one account in five, CRM links.

Run: `.venv/bin/python bench/import_book.py [--rows 20000] [--database-url URL]`.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from storage.db import Database, make_engine
from storage.migrate import upgrade
from storage.models import Account, OwnershipEvent
from storage.workspaces import remember_workspace

TEAM = "T0BENCH"
LIMIT_S = 60.0
HEADER = [
    "crm_id",
    "account_name",
    "arr",
    "currency",
    "contract_start",
    "renewal_date",
    "ae_email",
    "csm_email",
    "am_email",
    "manager_email",
    "crm_url",
    "segment",
]
WORDS = ["North", "Blue", "Summit", "Vertex", "Harbor", "Cedar", "Apex", "Nova", "Atlas", "Lumen"]
KINDS = ["Robotics", "Foods", "Logistics", "Health", "Energy", "Labs", "Media", "Freight"]


def book(path: Path, rows: int, today: date) -> None:
    with path.open("w", newline="", encoding="utf-8") as file:
        out = csv.writer(file)
        out.writerow(HEADER)
        for n in range(rows):
            start = today - timedelta(days=(n * 37) % 760 - 30)
            out.writerow(
                [
                    f"CRM-{n:06}",
                    f"{WORDS[n % 10]} {KINDS[(n // 10) % 8]} {n}",
                    f"{20000 + (n % 400) * 500}",
                    "USD" if n % 7 else "EUR",
                    start.isoformat(),
                    renewal(start, today).isoformat(),
                    f"ae{n % 60}@example.test",
                    f"csm{n % 90}@example.test",
                    f"am{n % 15}@example.test" if n % 5 == 0 else "",
                    f"lead{n % 8}@example.test",
                    f"https://crm.example.test/deals/{n}",
                    ("Enterprise", "Mid-market", "SMB")[n % 3],
                ]
            )


def renewal(start: date, today: date) -> date:
    """The next anniversary of the start after today (a renewed account's date moves on)."""
    years = 1
    while _anniversary(start, years) <= today:
        years += 1
    return _anniversary(start, years)


def _anniversary(start: date, years: int) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return date(start.year + years, 3, 1)


BATON = [sys.executable, "-m", "bot"]


def timed(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process, its output)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"baton import exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return wall, cpu, done.stdout


def counts(db: Database) -> tuple[int, int, int]:
    def read(session) -> tuple[int, int, int]:  # noqa: ANN001
        accounts = session.scalar(select(func.count()).select_from(Account))
        handed = session.scalar(
            select(func.count()).select_from(Account).where(Account.status == "handed_off")
        )
        events = session.scalar(select(func.count()).select_from(OwnershipEvent))
        return accounts, handed, events

    return db.run_sync(read)


def main(rows: int, database_url: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        url = database_url or f"sqlite:///{folder}/import.db"
        engine = make_engine(url)
        upgrade(engine)
        db = Database(engine)
        db.run_sync(remember_workspace, TEAM, "Bench", "UBOT", datetime.now(UTC))
        path = folder / "book.csv"
        book(path, rows, datetime.now(UTC).date())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BATON_"))} | {
            "DATABASE_URL": url
        }
        argv = [*BATON, "import", str(path), "--no-channels"]
        size = path.stat().st_size / 1024 / 1024
        print(f"book                  {rows:,} rows, {size:.1f} MB; `baton import`")
        wall, cpu, _out = timed(argv, env, folder)
        accounts, handed, events = counts(db)
        print(
            f"import --no-channels  {wall:.1f} s wall, {cpu:.1f} s CPU against the {LIMIT_S:.0f} s "
            f"allowed: ratio {LIMIT_S / wall:.1f}; {accounts:,} accounts ({handed:,} past their "
            f"handoff, {accounts - handed:,} new handoffs), {events:,} trail entries"
        )
        wall, cpu, out = timed(argv, env, folder)
        unchanged = "every row unchanged" if f"{rows:,} unchanged" in out else out.strip()
        print(f"the same file again   {wall:.1f} s wall, {cpu:.1f} s CPU: {unchanged}")
        wall, cpu, _out = timed([*BATON, "import", str(path), "--dry-run"], env, folder)
        print(f"--dry-run             {wall:.1f} s wall, {cpu:.1f} s CPU")
        engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite)")
    options = parser.parse_args()
    main(options.rows, options.database_url)
