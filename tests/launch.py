"""Starting `baton run` for a test in a fraction of a second: a process of its own, as in
life, but forked from a server that has already imported Baton (multiprocessing's
forkserver), not a fresh interpreter that imports it all again. The child runs the same
entry point as the `baton` script (`bot.runtime.cli.main`) with the test's environment,
working directory and log file; it can be signalled and killed like any process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from pathlib import Path

PRELOAD = ["bot.runtime.cli", "bot.runtime.runner"]
_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(PRELOAD)


def _baton(argv: list[str], env: dict[str, str], cwd: str, log: str) -> None:
    sink = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(sink, 1)
    os.dup2(sink, 2)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    from bot.runtime.cli import main

    code = main(argv)
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


def launch(argv: list[str], env: dict[str, str], cwd: Path, log: Path) -> Launched:
    process = _CONTEXT.Process(target=_baton, args=(argv, env, str(cwd), str(log)), daemon=True)
    process.start()
    return Launched(process)
