"""The cost of a tick with nothing due, on a small outbox and a big one.

Fills the outbox with messages already sent (10,000 rows, then `rows`, default
1,000,000), runs ten ticks as of an instant when nothing is due, and prints the median
tick of each and their ratio: a tick should cost what is due, not the size of the book.
No Slack is called (nothing is due), so the Web API URL points nowhere.

Run: `.venv/bin/python bench/tick_cost.py [rows]` (SQLite in a temporary file, or the
database in BATON_TEST_DATABASE_URL, emptied first).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from bot.outbox.tick import run_tick
from bot.platform.settings import load_settings
from bot.runtime.runner import make_services
from storage.migrate import upgrade
from storage.models import OutboxMessage, Workspace

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)
CHUNK = 20_000
TICKS = 10


def _empty(url: str) -> None:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


def _sent(start: int, stop: int) -> list[dict]:
    return [
        {
            "team_id": "T1",
            "dedupe_key": f"k{n}",
            "channel": f"U{n % 500}",
            "text": "sent long ago",
            "due_at": NOW - timedelta(days=1 + n % 300),
            "status": "sent",
            "kind": "message",
            "attempts": 1,
            "created_at": NOW,
            "sent_at": NOW,
            "sent_channel": "D1",
            "sent_ts": f"{n}.0",
        }
        for n in range(start, stop)
    ]


async def median_tick(url: str, rows: int) -> float:
    settings = load_settings(
        env_file=None,
        slack_bot_token="xoxb-bench",
        slack_api_url="http://127.0.0.1:9/",
        database_url=url,
    )
    services = make_services(settings)
    upgrade(services.engine)
    with services.engine.begin() as connection:
        connection.execute(
            insert(Workspace.__table__),
            [{"team_id": "T1", "team_name": "Bench", "created_at": NOW}],
        )
        for start in range(0, rows, CHUNK):
            connection.execute(
                insert(OutboxMessage.__table__), _sent(start, min(rows, start + CHUNK))
            )
    services.budget.team_id = "T1"
    await run_tick(services, NOW, seconds=1)  # warm
    times = []
    for _ in range(TICKS):
        began = time.perf_counter()
        await run_tick(services, NOW, seconds=1)
        times.append(time.perf_counter() - began)
    services.engine.dispose()
    return statistics.median(times)


async def main(rows: int) -> None:
    shared = os.environ.get("BATON_TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        results = []
        for index, count in enumerate((10_000, rows)):
            url = shared or f"sqlite:///{Path(tmp)}/tick{index}.db"
            if shared:
                _empty(url)
            results.append(await median_tick(url, count))
    small, big = results
    where = "PostgreSQL" if shared else "SQLite"
    print(f"{where}: tick with nothing due, median of {TICKS}")
    print(f"  10,000 rows     {small * 1000:.1f} ms")
    print(f"  {rows:,} rows {big * 1000:.1f} ms")
    print(f"  ratio           {big / small:.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
