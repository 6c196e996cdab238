"""What a tick saw as it began, so that a stage with nothing to do is not even asked.

The tick reads the earliest moment of each kind of work (`storage.upcoming.Earliest`), the
failing steps and the paused workspaces in one unit. A stage registered with `when` runs
only if its work was due then, or if a stage run since could have made it due (`owing`:
one that owes or re-owes messages ran; `planned`: when what planning owed is due), or if a
failed step's retry is due (a retry may be any stage's). A stage without `when` always
runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.upcoming import Earliest

_NOTHING = Earliest(None, None, None, None, None, None, None)


@dataclass
class Outlook:
    now: datetime
    earliest: Earliest
    uncertain: bool  # a row whose fate at Slack is to be read back now
    owing: bool = False  # a stage that owes (or re-owes) messages ran since
    planned: datetime | None = None  # planning ran: when the earliest message it owed is due
    blind: bool = False  # the read failed: every stage runs

    @classmethod
    def unknown(cls, now: datetime) -> Outlook:
        """No outlook (its read failed): every stage runs, as if everything were due."""
        return cls(now, _NOTHING, uncertain=False, blind=True)

    def due(self, at: datetime | None) -> bool:
        return at is not None and at <= self.now

    @property
    def retrying(self) -> bool:
        return self.blind or self.due(self.earliest.retry)
