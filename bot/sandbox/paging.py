"""Reading a conversation back the way Slack pages it: limit, cursor, oldest/latest/inclusive.

conversations.history gives top-level messages newest first, `limit` 1-999 (default 100);
conversations.replies gives the thread's parent and then its replies oldest first, `limit`
1-999 (Slack: "specify a limit value under 1000"; default 10). A page holds at most `limit`
messages; `has_more` and `response_metadata.next_cursor` say whether another follows, and
the cursor is only good for the conversation that handed it out. Messages exactly at
`oldest` or `latest` are left out unless `inclusive` is true; `latest` defaults to now.
Bad values get Slack's errors: `invalid_ts_oldest`, `invalid_ts_latest`, `invalid_cursor`,
and `invalid_arguments` for a `limit` that is not a whole number in range.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from bot.sandbox.rules import SlackError

HISTORY_LIMIT = (100, 999)  # (default, maximum)
REPLIES_LIMIT = (10, 999)
_TS = re.compile(r"^\d+(\.\d+)?$")
_CURSOR_MARK = "|next_ts:"


class Stamped(Protocol):
    ts: str


T = TypeVar("T", bound=Stamped)


@dataclass(frozen=True)
class Window:
    oldest: Decimal | None
    latest: Decimal | None
    inclusive: bool

    def holds(self, ts: str) -> bool:
        stamp = Decimal(ts)
        if self.oldest is not None and not (
            stamp >= self.oldest if self.inclusive else stamp > self.oldest
        ):
            return False
        return self.latest is None or (
            stamp <= self.latest if self.inclusive else stamp < self.latest
        )


def window(args: dict[str, Any]) -> Window:
    # No message is ever stamped later than now, so "latest defaults to now" is no bound.
    return Window(
        oldest=_timestamp(args.get("oldest"), "invalid_ts_oldest"),
        latest=_timestamp(args.get("latest"), "invalid_ts_latest"),
        inclusive=_flag(args.get("inclusive"), "inclusive"),
    )


def page_limit(args: dict[str, Any], bounds: tuple[int, int]) -> int:
    default, maximum = bounds
    raw = args.get("limit")
    if raw is None or raw == "":
        return default
    text = str(raw).strip()
    if not text.isdigit() or not 1 <= int(text) <= maximum:
        raise _invalid(f"limit must be a whole number from 1 to {maximum}")
    return int(text)


def cursor_position(args: dict[str, Any], scope: str) -> Decimal | None:
    """Where the page a cursor points at starts, or None for the first page."""
    raw = args.get("cursor")
    if raw is None or raw == "":
        return None
    try:
        decoded = base64.b64decode(str(raw), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SlackError("invalid_cursor") from None
    owner, mark, ts = decoded.partition(_CURSOR_MARK)
    if owner != scope or not mark or not _TS.match(ts):
        raise SlackError("invalid_cursor")
    return Decimal(ts)


def page(items: Sequence[T], limit: int, scope: str) -> tuple[list[T], dict[str, Any]]:
    """The first `limit` items and the paging fields of the answer."""
    shown = list(items[:limit])
    if len(items) <= limit:
        return shown, {"has_more": False}
    cursor = base64.b64encode(f"{scope}{_CURSOR_MARK}{items[limit].ts}".encode()).decode()
    return shown, {"has_more": True, "response_metadata": {"next_cursor": cursor}}


def _timestamp(raw: Any, error: str) -> Decimal | None:
    if raw is None or raw == "":
        return None
    if not _TS.match(str(raw).strip()):
        raise SlackError(error)
    return Decimal(str(raw).strip())


def _flag(raw: Any, name: str) -> bool:
    if raw in (None, "", False, 0, "0", "false"):
        return False
    if raw in (True, 1, "1", "true"):
        return True
    raise _invalid(f"{name} must be a boolean")


def _invalid(message: str) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {message}"]})
