"""Slack's published rate limits for the methods Baton calls, as Baton budgets them.

Slack applies them per method, per app and per workspace: Tier 1 1+/min, Tier 2 20+/min,
Tier 3 50+/min, Tier 4 100+/min. chat.postMessage is special: about one message per
second per channel with short bursts, within a workspace-wide limit Slack does not publish
(BATON_SLACK_POSTS_PER_MINUTE says how many Baton allows itself).

Baton keeps a little under each pace (SAFETY): a request reaches Slack some milliseconds
after Baton counted it, and two requests counted a second apart may arrive closer
together than that. A burst is taken whole: arriving later only gives Slack more time.
"""

from __future__ import annotations

from dataclasses import dataclass

SAFETY = 0.95
POST_MESSAGE = "chat.postMessage"
PER_MINUTE = {1: 1, 2: 20, 3: 50, 4: 100}
TIERS: dict[int, frozenset[str]] = {
    2: frozenset(
        {
            "conversations.create",
            "conversations.inviteShared",
            "conversations.setTopic",
            "bookmarks.add",
            "usergroups.list",
            "usergroups.users.list",
        }
    ),
    3: frozenset(
        {
            "users.lookupByEmail",
            "conversations.invite",
            "conversations.info",
            "conversations.history",
            "conversations.replies",
            "conversations.open",
            "chat.update",
        }
    ),
    4: frozenset(
        {
            "auth.test",
            "users.info",
            "conversations.members",
            "chat.postEphemeral",
            "chat.getPermalink",
            "views.open",
            "views.update",
            "views.push",
            "views.publish",
        }
    ),
}
UNLISTED_TIER = 2  # a method not listed here: budget it as the common, modest tier
PER_CHANNEL_PER_SECOND = 1.0
PER_CHANNEL_BURST = 5  # "short bursts": Slack gives no figure, so a few


@dataclass(frozen=True)
class Pace:
    """At most `rate` requests a second on average, `burst` of them back to back."""

    rate: float
    burst: int

    @property
    def interval(self) -> float:
        return 1 / self.rate

    @property
    def tolerance(self) -> float:
        """How far ahead of the steady pace a request may come (the burst, in seconds)."""
        return (self.burst - 1) * self.interval


def tier_of(method: str) -> int:
    return next((tier for tier, methods in TIERS.items() if method in methods), UNLISTED_TIER)


def method_pace(method: str) -> Pace:
    per_minute = PER_MINUTE[tier_of(method)]
    return Pace(rate=per_minute * SAFETY / 60, burst=per_minute)


def channel_pace() -> Pace:
    return Pace(rate=PER_CHANNEL_PER_SECOND * SAFETY, burst=PER_CHANNEL_BURST)


def workspace_post_pace(per_minute: int) -> Pace:
    """Like a tier: so many a minute, a minute's worth at once."""
    return Pace(rate=per_minute * SAFETY / 60, burst=per_minute)
