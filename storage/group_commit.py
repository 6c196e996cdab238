"""Group commit: units of work that arrive together share one transaction.

Each caller hands in one item and waits for its own result; while one transaction is being
committed, the items that arrive queue up and go in the next one. Under load that makes
one commit (one fsync, one worker-thread hop, one statement per table) out of many; alone,
an item goes in at once, as if it had its own unit. A caller's result is returned only
after the transaction holding its item has committed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from storage.db import Database, is_outage

Item = TypeVar("Item")
Result = TypeVar("Result")
MOST = 200  # items in one transaction at most


class GroupCommit(Generic[Item, Result]):
    """`unit(session, items, *args)` returns one result per item, in order.

    If a group's unit raises (other than for an outage), each of its items is run again
    alone, so an item that fails fails only its own caller. Use from one event loop."""

    def __init__(
        self,
        db: Database,
        unit: Callable[..., Sequence[Result]],
        *args: Any,
        immediate: bool = False,
    ) -> None:
        self._db, self._unit, self._args, self._immediate = db, unit, args, immediate
        self._queued: list[tuple[Item, asyncio.Future[Result]]] = []
        self._committing: asyncio.Task[None] | None = None

    async def run(self, item: Item) -> Result:
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._queued.append((item, future))
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_queued())
        return await future

    async def _commit_queued(self) -> None:
        while self._queued:
            group, self._queued = self._queued[:MOST], self._queued[MOST:]
            try:
                results = await self._run([item for item, _ in group])
            except Exception as error:
                if len(group) == 1 or is_outage(error):  # alone, each would fail the same way
                    for _item, future in group:
                        _settle(future, error=error)
                    continue
                for item, future in group:
                    try:
                        _settle(future, (await self._run([item]))[0])
                    except Exception as alone:
                        _settle(future, error=alone)
                continue
            for (_item, future), result in zip(group, results, strict=True):
                _settle(future, result)

    async def _run(self, items: list[Item]) -> Sequence[Result]:
        results = await self._db.run(self._unit, items, *self._args, immediate=self._immediate)
        if len(results) != len(items):
            raise RuntimeError(f"{len(results)} results for {len(items)} items")
        return results


def _settle(
    future: asyncio.Future[Any], result: Any = None, *, error: BaseException | None = None
) -> None:
    if future.done():  # its caller went away
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
