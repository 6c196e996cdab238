"""Starting `baton run` for a test in a fraction of a second: a process of its own, as in
life, but forked from a server that has already imported Baton (multiprocessing's
forkserver), not a fresh interpreter that imports it all again. The child runs the same
entry point as the `baton` script (`bot.runtime.cli.main`) with the test's environment,
working directory and output files; it can be signalled and killed like any process.
A test of the script itself (its installation, `python -m bot`, the demo as a person runs
it) starts the real interpreter instead.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# What `baton`'s commands import (the CLI imports each command's own modules when it runs).
PRELOAD = [
    "bot.runtime.cli",
    "bot.runtime.runner",
    "bot.outbox.tick",
    "bot.admin.status",
    "bot.crm.import_cli",
    "bot.crm.sync",
    "bot.stats.seed",
    "bot.stats.report_cli",
    "storage.migrate",
]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)


def _baton(argv: list[str], env: dict[str, str], cwd: str, out: str, err: str) -> None:
    for fd, path in ((1, out), (2, err)):
        sink = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(sink, fd)
        os.close(sink)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    time.tzset()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from bot.runtime.cli import main

    try:
        code = main(argv)
    except SystemExit as exit_:  # as the interpreter ends on it (argparse's usage errors)
        code = exit_.code
        if code is None:
            code = 0
        elif not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # as the script would exit, without multiprocessing's own ending


class Launched:
    """The started process, with the part of asyncio's `Process` the tests use."""

    def __init__(self, process: multiprocessing.process.BaseProcess) -> None:
        self._process = process
        self.pid = process.pid

    @property
    def returncode(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, number: int) -> None:
        if self._process.exitcode is None:
            os.kill(self._process.pid, number)  # type: ignore[arg-type]

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    async def wait(self) -> int:
        loop = asyncio.get_running_loop()
        ended = loop.create_future()
        sentinel = self._process.sentinel
        loop.add_reader(sentinel, lambda: ended.done() or ended.set_result(None))
        try:
            if self._process.exitcode is None:
                await ended
        finally:
            loop.remove_reader(sentinel)
        self._process.join()
        return self._process.exitcode  # type: ignore[return-value]


def _start(
    argv: list[str], env: dict[str, str], cwd: Path, out: Path, err: Path
) -> multiprocessing.process.BaseProcess:
    process = _CONTEXT.Process(
        target=_baton, args=(argv, env, str(cwd), str(out), str(err)), daemon=True
    )
    process.start()
    return process


def launch(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path, err: Path | None = None
) -> Launched:
    """`baton argv…`, its output appended to `log` (and its errors to `err`, if given)."""
    return Launched(_start(argv, env, cwd, log, err or log))


def run(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess:
    """`baton argv…` to its end, as `subprocess.run(…, capture_output=True, text=True)`."""
    with tempfile.TemporaryDirectory(prefix="baton-output-") as folder:
        out, err = Path(folder) / "stdout", Path(folder) / "stderr"
        process = _start(argv, env, cwd, out, err)
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise subprocess.TimeoutExpired(["baton", *argv], timeout)
        return subprocess.CompletedProcess(
            ["baton", *argv],
            process.exitcode,
            out.read_text(errors="replace") if out.exists() else "",
            err.read_text(errors="replace") if err.exists() else "",
        )
