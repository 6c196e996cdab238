"""Something the person asked for that Baton won't do, told in one sentence.

It lives in the platform so the shared listener helpers (`bot.platform.listening`) can turn
it into an answer; `bot.accounts.load` re-exports it where the features have always found it.
"""

from __future__ import annotations

from bot.platform.kit import unesc


class Refusal(Exception):
    """Something the person asked for that Baton won't do; the message (mrkdwn) says why."""

    def plain(self) -> str:
        """The sentence for a plain-text place, such as a modal's inline error."""
        return unesc(str(self))
