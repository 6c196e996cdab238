"""The hostile-input run against a real `baton run`: at least 1,000 generated hostile
inputs per entry point, then the five totals (inputs tried, 5xx answers, tracebacks in
the log, rows written on rejected input, wrong-person successes).

Run: `.venv/bin/python bench/hostile.py [--per-entry 1000] [--seed 1]
[--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]`. It exits 1 unless
every total but the first is zero (2 if the run could not measure). The machinery is
`tests/hostile_run.py`, shared with the slow test `tests/test_hostile_run.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: tests.*

from tests.hostile_run import InstrumentError, hostile_run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-entry", type=int, default=1000, help="inputs per entry point")
    parser.add_argument("--seed", type=int, default=1, help="the generator's seed")
    parser.add_argument(
        "--database-url", default=None, help="PostgreSQL URL (a schema is made and dropped)"
    )
    args = parser.parse_args()
    try:
        report = asyncio.run(
            hostile_run(
                args.per_entry,
                args.database_url,
                args.seed,
                progress=lambda text: print(text, file=sys.stderr, flush=True),
            )
        )
    except InstrumentError as exc:
        print(f"hostile run: {exc}", file=sys.stderr)
        return 2
    print(report.render())
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
