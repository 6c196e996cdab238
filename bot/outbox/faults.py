"""One subject's failure is that subject's alone: logged with its team and id, retried
with backoff, shown by `/baton status`, and never in the way of the others."""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from slack_sdk.errors import SlackApiError

from bot.platform.services import Services
from bot.platform.slack_client import OverBudget
from storage.faults import FaultKey, clear_faults, fault_keys, record_fault

log = logging.getLogger(__name__)
T = TypeVar("T")
MEMO = "faults"
GIVE_UP_AFTER = 8  # failures in a row, with backoff (about 4 hours), before giving up


def account_step(team_id: str, account_id: int | None, step: str) -> FaultKey:
    return FaultKey(team_id, "account", str(account_id), step)


@dataclass(frozen=True)
class Failed:
    """What a failed step gives back: when to try it again, and how often it failed."""

    retry_at: datetime
    count: int = 1

    @property
    def hopeless(self) -> bool:
        return self.count >= GIVE_UP_AFTER


async def load_faults(services: Services) -> None:
    """Read the failing steps once per tick, so success can forget them cheaply."""
    remember_faults(services, await services.db.run(fault_keys))


def remember_faults(services: Services, keys: dict[FaultKey, datetime]) -> None:
    """The failing steps as the tick just read them."""
    services.memo[MEMO] = keys


def _known(services: Services) -> dict[FaultKey, datetime]:
    return services.memo.setdefault(MEMO, {})


def waiting(services: Services, key: FaultKey, now: datetime) -> bool:
    """Whether this step failed lately and its backoff has not run out yet."""
    retry_at = _known(services).get(key)
    return retry_at is not None and retry_at > now


async def isolated(
    services: Services, key: FaultKey, work: Awaitable[T], now: datetime
) -> T | Failed:
    """Run one subject's step; a failure is recorded (not raised) and says when to retry."""
    try:
        result = await work
    except OverBudget:  # Slack's rate limits, not this subject's fault: the caller waits
        raise
    except SlackApiError as exc:
        error = f"Slack said {exc.response.get('error')}"
        log.warning("%s failed for %s %s of team %s: %s", key.step, key.subject,
                    key.subject_id, key.team_id, error)  # fmt: skip
        return await _failed(services, key, error, now)
    except Exception as exc:
        log.exception(
            "%s failed for %s %s of team %s", key.step, key.subject, key.subject_id, key.team_id
        )
        return await _failed(services, key, f"{type(exc).__name__}: {exc}", now)
    if key in _known(services):
        await services.db.run(clear_faults, [key])
        _known(services).pop(key, None)
    return result


async def _failed(services: Services, key: FaultKey, error: str, now: datetime) -> Failed:
    try:
        fault = await services.db.run(record_fault, key, error, now)
    except Exception:  # the database itself is failing: the next tick tries again
        log.exception("could not record the failure of %s for %s %s", key.step, key.subject,
                      key.subject_id)  # fmt: skip
        return Failed(now)
    _known(services)[key] = fault.retry_at
    return Failed(fault.retry_at, fault.count)
