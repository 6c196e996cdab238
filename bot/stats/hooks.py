"""What stats contributes: the team-health section of the Monday digest and of a
manager's App Home."""

from __future__ import annotations

from bot.platform.hooks import Hooks
from bot.stats.health import health_section, home_section


def register(hooks: Hooks) -> None:
    hooks.digest_sections.append(health_section)
    hooks.home_sections.append(home_section)
