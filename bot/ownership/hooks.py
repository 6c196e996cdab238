"""What ownership contributes to the tick and to sending: the managers' Monday digest,
planned every tick and written from the data as it is when it falls due."""

from __future__ import annotations

from bot.ownership import digest
from bot.platform.hooks import Hooks
from bot.platform.outlook import Outlook
from bot.platform.services import Services


def _due(_services: Services, outlook: Outlook) -> bool:
    """A digest to write is a message due."""
    return outlook.due(outlook.earliest.pending)


def register(hooks: Hooks) -> None:
    hooks.planners.append(digest.note_managers)
    hooks.stage(
        "after_planning", "planning digests", digest.plan_digests, when=digest.to_plan, owes=True
    )
    hooks.stage("after_planning", "writing digests", digest.write_digests, when=_due)
    hooks.compose[digest.KIND] = digest.compose
    hooks.wakes.append(digest.next_look)
