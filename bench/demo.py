"""What `baton demo` costs, and what skipping the beats with nothing to do saves.

Runs `baton demo` as a person does, then the same demo with its clock ticking at every
30-minute beat (as it did before the clock went straight to the next work), each in its
own process, and prints each one's CPU (user + sys), wall time and peak RSS, the ratio,
and whether the two transcripts are byte for byte the same (exit 1 if not: a skipped
beat would have had work).

Run: `.venv/bin/python bench/demo.py`
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

EVERY_BEAT = "--every-beat"


@dataclass(frozen=True)
class Run:
    cpu_s: float
    wall_s: float
    rss_mb: float
    transcript: bytes


def _measure(command: list[str]) -> Run:
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            sys.exit(f"{' '.join(command)} exited {process.returncode}")
        out.seek(0)
        return Run(usage.ru_utime + usage.ru_stime, wall, usage.ru_maxrss / 1024, out.read())


def _every_beat() -> None:
    """The demo as it was: a tick at every beat, whether or not anything is due."""
    from bot.outbox.tick import run_tick
    from bot.runtime.demo import TICK, Demo

    class EveryBeat(Demo):
        async def run_clock(self, until: datetime, *, before: bool = False) -> None:
            while self.clock() < until:
                if before and self.clock() + TICK >= until:
                    return
                self.clock.advance(TICK)
                await run_tick(self.bot.services)
                self.show()

    asyncio.run(EveryBeat().run())


def main() -> int:
    baton = str(Path(sys.executable).with_name("baton"))
    now = _measure([baton, "demo"])
    before = _measure([sys.executable, __file__, EVERY_BEAT])
    for name, run in (("every beat ticked", before), ("baton demo", now)):
        print(
            f"{name:>18}: {run.cpu_s:5.1f} s CPU (user+sys), {run.wall_s:5.1f} s wall, "
            f"{run.rss_mb:4.0f} MB peak RSS, {len(run.transcript.splitlines())} lines"
        )
    same = now.transcript == before.transcript
    print(
        f"ratio: CPU {now.cpu_s / before.cpu_s:.2f}x, wall {now.wall_s / before.wall_s:.2f}x; "
        f"transcripts {'byte for byte the same' if same else 'DIFFER'}"
    )
    return 0 if same else 1


if __name__ == "__main__":
    if EVERY_BEAT in sys.argv:
        _every_beat()
    else:
        sys.exit(main())
