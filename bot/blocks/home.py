"""The App Home tab."""

from __future__ import annotations

from typing import Any

from bot.blocks.kit import actions, button, context, divider, header, section

HELP_ACTION = "baton_help_open"


def home_view(first_name: str) -> dict[str, Any]:
    greeting = f"Hi {first_name}!" if first_name else "Hi!"
    return {
        "type": "home",
        "blocks": [
            header("Baton"),
            section(
                f"{greeting} Baton keeps one clear owner on every account: the handoff "
                "from AE to CSM, the first check-ins, and every renewal milestone."
            ),
            divider(),
            section(
                "*Your accounts*\nNo accounts yet. When a deal you are on closes, it "
                "shows up here with its phase and next milestone."
            ),
            actions(button("Show commands", HELP_ACTION), block_id="home_actions"),
            context("Ask `/baton help` in any channel for the full list of commands."),
        ],
    }
