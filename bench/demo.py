"""What `baton demo` costs, and what skipping the beats with nothing to do saves.

Runs `baton demo` as a person does, then the same demo with its clock ticking at every
30-minute beat (as it did before the clock went straight to the next work), each in its
own process, and prints each one's CPU (user + sys), wall time and peak RSS, the ratio,
and whether the two transcripts are byte for byte the same (exit 1 if not: a skipped
beat would have had work).

With `--against REV [--rounds N]`, it instead runs `baton demo` of this checkout and of
git revision REV (a temporary worktree, run by this interpreter from its own folder)
in turn, N times each, and prints each one's least CPU and the ratio: the machine's
speed drifts, so one run each would compare two moments more than two versions.

Run: `.venv/bin/python bench/demo.py [--against REV [--rounds N]]`
"""

from __future__ import annotations

import argparse
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


def _measure(command: list[str], cwd: str | None = None) -> Run:
    with tempfile.TemporaryFile() as out:
        started = time.monotonic()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd)
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


def against(revision: str, rounds: int) -> int:
    here = Path(__file__).resolve().parent.parent
    demo = [sys.executable, "-m", "bot", "demo"]
    with tempfile.TemporaryDirectory(prefix="baton-bench-") as tmp:
        other = str(Path(tmp) / "tree")
        git = ["git", "-C", str(here)]
        subprocess.run([*git, "worktree", "add", "--detach", other, revision], check=True)
        try:
            runs: dict[str, list[Run]] = {"this checkout": [], revision: []}
            for _ in range(rounds):  # in turn, so both meet the machine's same moments
                runs["this checkout"].append(_measure(demo, cwd=str(here)))
                runs[revision].append(_measure(demo, cwd=other))
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", other], check=True)
    least = {name: min(r.cpu_s for r in done) for name, done in runs.items()}
    for name, done in runs.items():
        cpus = ", ".join(f"{r.cpu_s:.1f}" for r in done)
        print(f"{name:>14}: least {least[name]:5.1f} s CPU (user+sys) of {cpus}")
    same = runs["this checkout"][0].transcript == runs[revision][0].transcript
    print(
        f"ratio: {least['this checkout'] / least[revision]:.2f}x CPU; "
        f"transcripts {'byte for byte the same' if same else 'differ'}"
    )
    return 0


if __name__ == "__main__":
    if EVERY_BEAT in sys.argv:
        _every_beat()
    elif "--against" in sys.argv:
        parser = argparse.ArgumentParser()
        parser.add_argument("--against", required=True)
        parser.add_argument("--rounds", type=int, default=3)
        options = parser.parse_args()
        sys.exit(against(options.against, max(1, options.rounds)))
    else:
        sys.exit(main())
