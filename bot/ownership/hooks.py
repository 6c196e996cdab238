"""What ownership contributes to the tick and to sending: the managers' Monday digest,
planned every tick and written from the data as it is when it falls due."""

from __future__ import annotations

from bot.ownership import digest
from bot.platform.hooks import Hooks


def register(hooks: Hooks) -> None:
    hooks.stage("after_planning", "planning digests", digest.plan_digests)
    hooks.stage("after_planning", "writing digests", digest.write_digests)
    hooks.compose[digest.KIND] = digest.compose
    hooks.wakes.append(digest.next_look)
