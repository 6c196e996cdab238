"""What Baton tells each person the first time it meets them, by role."""

from __future__ import annotations

from flows.roles import Role

_WHAT_I_DO = {
    Role.AE: (
        "When you close a deal I open the account channel and ask you for the handoff "
        "packet, so the CSM starts with the customer's own words. You stay in the loop on "
        "the first four check-ins and I tell you when the renewal needs you."
    ),
    Role.CSM: (
        "I bring you every new account with the AE's handoff packet, prompt your weekly "
        "check-ins, and nudge you before each renewal milestone (month 5, days 120, 90, 30) "
        "at 09:00 your time."
    ),
    Role.AM: (
        "When an account's retention model makes you its commercial owner, I bring you "
        "the renewal milestones at 09:00 your time."
    ),
    Role.MANAGER: (
        "Ask me `/baton owner <account>` any time to see who owns it this week; I tell "
        "you when a handoff or a renewal step is late."
    ),
}


def introduction(first_name: str, role: Role) -> str:
    greeting = f"Hi {first_name}, I'm Baton." if first_name else "Hi, I'm Baton."
    return f"{greeting} {_WHAT_I_DO[role]} Type `/baton help` to see everything I can do."
