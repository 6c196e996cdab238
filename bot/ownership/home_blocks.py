"""The App Home tab: a personal dashboard, paged so it stays inside Slack's 100 blocks."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.ownership.blocks import for_whom, late_line
from bot.ownership.home import Dashboard
from bot.ownership.standing import Standing
from bot.platform.kit import (
    Block,
    actions,
    button,
    clip,
    context,
    divider,
    esc,
    header,
    section,
    user_mention,
)
from flows.ownership import ROLE_NAMES

HELP_ACTION = "baton_help_open"
PAGE_ACTION = "baton_home_page"
PAGE_SIZE = 10  # accounts per page: 2 blocks each, well inside the 100-block view limit
OVERDUE_SHOWN = 10


def home_view(
    first_name: str, board: Dashboard | None = None, page: int = 0, today: date | None = None
) -> dict[str, Any]:
    greeting = f"Hi {esc(first_name)}!" if first_name else "Hi!"
    blocks: list[Block] = [
        header("Baton"),
        section(
            f"{greeting} Baton keeps one clear owner on every account: the handoff "
            "from AE to CSM, the first check-ins, and every renewal milestone."
        ),
    ]
    if board is not None and today is not None:
        blocks += _dashboard(board, page, today)
    else:
        blocks += [
            divider(),
            section(
                "*Your accounts*\nNo accounts yet. When a deal you are on closes, it "
                "shows up here with its phase and next milestone."
            ),
        ]
    blocks += [
        actions(button("Show commands", HELP_ACTION), block_id="home_actions"),
        context("Ask `/baton help` in any channel for the full list of commands."),
    ]
    return {"type": "home", "blocks": blocks}


def _dashboard(board: Dashboard, page: int, today: date) -> list[Block]:
    blocks: list[Block] = []
    if board.team is not None:
        t = board.team
        blocks += [
            divider(),
            section(
                f"*Team summary — {esc(t.label)}*\n{t.accounts} live accounts · "
                f"{t.overdue} overdue milestones · {t.at_risk} at risk (red) · "
                f"{t.pending} packets pending · {t.renewing_90} renewals in 90 days\n"
                "`/baton week` for the detail."
            ),
        ]
        blocks += [
            section(clip(f"*{esc(h)}*\n" + "\n".join(lines), 3000)) for h, lines in t.sections
        ]
    if board.covering:
        names = ", ".join(
            f"{user_mention(c.user_id)} until {c.until:%a %d %b}" for c in board.covering
        )
        blocks.append(context(f":busts_in_silhouette: You are covering for {names}."))
    overdue = [(late, s) for s in board.mine for late in s.overdue if _mine(s, late.owners, board)]
    blocks += [divider(), section(f"*Your overdue items ({len(overdue)})*")]
    if overdue:
        lines = [
            f"• *{esc(s.account.name)}*: "
            + late_line(late, s.account, today, board.windows, s.ops_owner)
            for late, s in overdue[:OVERDUE_SHOWN]
        ]
        if len(overdue) > OVERDUE_SHOWN:
            lines.append(f"…and {len(overdue) - OVERDUE_SHOWN} more.")
        blocks.append(section("\n".join(lines)))
    else:
        blocks.append(context("Nothing overdue."))
    if board.packets_owed:
        lines = [
            f"• *{esc(s.account.name)}* — closed {s.account.closed_at:%d %b}"
            for s in board.packets_owed[:10]
        ]
        blocks += [
            section(f"*Handoff packets you owe ({len(board.packets_owed)})*\n" + "\n".join(lines))
        ]
    pages = max(1, -(-len(board.mine) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = board.mine[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    title = f"*Your accounts ({board.total})*, most urgent first"
    if pages > 1:
        title += f" — page {page + 1} of {pages}"
    blocks += [divider(), section(title)]
    if not shown:
        blocks.append(context("No live accounts."))
    for standing in shown:
        blocks += _account_blocks(standing, board)
    nav = []
    if page > 0:
        nav.append(button("◀ Previous", f"{PAGE_ACTION}_prev", str(page - 1)))
    if page + 1 < pages:
        nav.append(button("Next ▶", f"{PAGE_ACTION}_next", str(page + 1)))
    if nav:
        blocks.append(actions(*nav, block_id="home_pages"))
    return blocks


def _mine(standing: Standing, roles: tuple[str, ...], board: Dashboard) -> bool:
    return any(standing.holder(r) in board.people for r in roles)


def _account_blocks(standing: Standing, board: Dashboard) -> list[Block]:
    roles = [
        f"{ROLE_NAMES[p.role]} ({', '.join(p.duties)}){for_whom(standing, p, board.user_id)}"
        for p in standing.parts_held_by(board.people)
    ]
    nxt = standing.next
    line = f"*{esc(standing.account.name)}* — {standing.owns.phase.label} ({standing.owns.stage})"
    detail = [f"You: {'; '.join(roles) or 'no part this week'}"]
    detail.append(
        f"Next: {nxt.title} on {nxt.due_date:%a %d %b}" if nxt else "Next: nothing planned"
    )
    if standing.overdue:
        detail.append(f":warning: {len(standing.overdue)} overdue")
    if standing.flag is not None:
        detail.append(f"health {esc(standing.flag.health)}")
    return [section(line), context(" · ".join(detail))]
