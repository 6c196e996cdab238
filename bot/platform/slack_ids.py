"""What a Slack id says by its first letter."""

from __future__ import annotations


def is_person(target: str) -> bool:
    """A user id (U, or W on Enterprise Grid), not a conversation's (C, G, D): a message
    posted to it goes to the app's DM with that person."""
    return target.startswith(("U", "W"))
