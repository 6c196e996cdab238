"""How the ownership answers read: `/baton owner`, the week, renewals, pending, history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.ownership.standing import OverdueItem, Standing, stand_in
from bot.platform.kit import (
    SECTION_TEXT_MAX,
    Block,
    channel_mention,
    context,
    divider,
    esc,
    header,
    money,
    section,
    user_mention,
)
from flows.ownership import ROLE_NAMES, Share
from flows.playbook import Tier
from storage.models import Account, Coverage

LIST_LIMIT = 15


def day(d: date) -> str:
    return f"{d:%a %d %b %Y}"


def mention(user_id: str | None, email: str | None = None) -> str:
    if user_id:
        return user_mention(user_id)
    return f"{esc(email)} (not in Slack)" if email else "nobody"


def covered(user_id: str | None, windows: dict[str, Coverage]) -> str:
    """`<@U>`, or `<@backup> (covering for <@U> until …)` while U is away."""
    answerer, chain = stand_in(user_id, windows)
    if not chain:
        return mention(user_id)
    return (
        f"{mention(answerer)} _(covering for {mention(user_id)} until {chain[0].until:%a %d %b})_"
    )


def _part_line(standing: Standing, part: Share, windows: dict[str, Coverage]) -> str:
    account = standing.account
    holder = account.user_of(part.role)
    email = getattr(account, f"{part.role}_email", None)
    person = covered(holder, windows) if holder else mention(None, email)
    duties = ", ".join(part.duties)
    return f"• {person} — {ROLE_NAMES[part.role]} · *{duties}*: {part.what}"


def role_holders(
    account: Account, roles: Sequence[str], windows: dict[str, Coverage], ops: str | None = None
) -> str:
    """Who answers for these roles of the account now (backups shown as such); Ops last
    (`ops`: its Ops person, bot.accounts.ops.ops_user)."""
    people = [
        covered(account.user_of(role), windows)
        if account.user_of(role)
        else ROLE_NAMES.get(role, role)
        for role in roles
        if role != "ops"
    ]
    if "ops" in roles:
        people.append(f"{covered(ops, windows)} (Ops)" if ops else "no Ops owner set")
    return ", ".join(dict.fromkeys(people)) or "nobody"


def ops_line(standing: Standing) -> str:
    """`/baton owner`'s Ops: the account's own, or the workspace's (BATON_OPS_USERS)."""
    account, ops = standing.account, standing.ops
    if account.ops_user_id:
        return f"*Ops:* {mention(account.ops_user_id)}"
    if not ops:
        unfound = f" ({esc(account.ops_email)} is not in Slack)" if account.ops_email else ""
        return f"*Ops:* none set{unfound}; the CSM gets the Ops steps."
    others = f"; also {', '.join(mention(u) for u in ops[1:])}" if len(ops) > 1 else ""
    return f"*Ops:* {mention(ops[0])} (the workspace's Ops{others})"


def late_line(
    late: OverdueItem,
    account: Account,
    today: date,
    windows: dict[str, Coverage],
    ops: str | None = None,
) -> str:
    days = (today - late.since).days
    who = role_holders(account, late.owners, windows, ops)
    note = f": {esc(late.note)}" if late.note else ""
    return (
        f"*{late.what}* — due {late.since:%d %b}, {days} day{'s' * (days != 1)} late — {who}{note}"
    )


def account_title(standing: Standing) -> str:
    account = standing.account
    channel = f" · {channel_mention(account.channel_id)}" if account.channel_id else ""
    return f"*{esc(account.name)}* · CRM {esc(account.crm_id)}{channel}"


def owner_answer(
    standing: Standing, today: date, windows: dict[str, Coverage], tier: Tier | None = None
) -> tuple[str, list[Block]]:
    account, owns = standing.account, standing.owns
    ops = standing.ops_owner
    until = f" — until {day(owns.ends)}" if owns.ends else ""
    lines = [
        account_title(standing),
        f"*Phase:* {owns.phase.label} — {owns.stage}{until}",
    ]
    if owns.parts:
        lines.append("*Owners this week:*")
        lines += [_part_line(standing, part, windows) for part in owns.parts]
    lines.append(ops_line(standing))
    lines.append(f"*Why:* {owns.why}")
    blocks: list[Block] = [section("\n".join(lines))]
    detail = []
    if standing.next is not None:
        nxt = standing.next
        detail.append(
            f"*Next milestone:* {nxt.title} on {day(nxt.due_date)} — "
            f"{role_holders(account, nxt.owners, windows, ops)}"
        )
    elif owns.parts:
        detail.append("*Next milestone:* none planned yet.")
    if standing.overdue:
        detail.append("*Overdue:*")
        detail += [
            "• " + late_line(late, account, today, windows, ops) for late in standing.overdue
        ]
    else:
        detail.append("*Overdue:* nothing.")
    away = [
        f"{mention(account.user_of(role))} is away until "
        f"{windows[account.user_of(role)].until:%a %d %b}; "
        f"{mention(stand_in(account.user_of(role), windows)[0])} covers"
        for role in ("ae", "csm", "am")
        if account.user_of(role) in windows
    ]
    detail.append("*Coverage:* " + ("; ".join(away) if away else "none in effect."))
    if standing.flag is not None:
        detail.append(f"*Month-5 health:* {esc(standing.flag.health)}")
    days_left = (account.renewal_date - today).days
    detail.append(
        f"*Renewal:* {day(account.renewal_date)} ({_in_days(days_left)}) · ARR {money(account)}"
    )
    if tier is not None:
        detail.append(
            f"*Tier:* {esc(tier.title)}" + (f" — {esc(tier.motion)}" if tier.motion else "")
        )
    blocks.append(section("\n".join(detail)))
    text = "\n".join(lines + detail)
    return text, blocks


def _in_days(days: int) -> str:
    if days > 0:
        return f"in {days} day{'s' * (days != 1)}"
    return "today" if days == 0 else f"{-days} day{'s' * (days != -1)} ago"


def person_answer(
    user_id: str,
    standings: Sequence[Standing],
    covering: Sequence[Coverage],
    windows: dict[str, Coverage],
    today: date,
) -> tuple[str, list[Block]]:
    """The accounts `user_id` owns this week (theirs, and those of people they cover)."""
    lines = []
    mine = {user_id} | {c.user_id for c in covering}
    for standing in sorted(standings, key=lambda s: s.urgency)[:LIST_LIMIT]:
        roles = [
            f"{ROLE_NAMES[part.role]}{for_whom(standing, part, user_id)}: {', '.join(part.duties)}"
            for part in standing.parts_held_by(mine)
        ]
        role_text = "; ".join(roles) or "no part this week"
        nxt = standing.next
        nxt_text = f" · next: {nxt.title} {nxt.due_date:%d %b}" if nxt else ""
        late = f" · :warning: {len(standing.overdue)} overdue" if standing.overdue else ""
        lines.append(
            f"• *{esc(standing.account.name)}* — {standing.owns.phase.label} · "
            f"{role_text}{nxt_text}{late}"
        )
    owning = [s for s in standings if s.parts_held_by(mine)]
    head = f"{user_mention(user_id)} owns {len(owning)} account{'s' * (len(owning) != 1)} this week"
    if user_id in windows:
        head += f" — away until {windows[user_id].until:%a %d %b}, covered by " + covered(
            windows[user_id].backup_user_id, windows
        )
    if covering:
        head += " — covering for " + ", ".join(
            f"{user_mention(c.user_id)} until {c.until:%a %d %b}" for c in covering
        )
    if not standings:
        lines.append("No live accounts.")
    more = len(standings) - LIST_LIMIT
    if more > 0:
        lines.append(f"…and {more} more (the App Home lists them all).")
    text = head + ":\n" + "\n".join(lines)
    return text, [section(head + ":"), section("\n".join(lines))]


def for_whom(standing: Standing, part: Share, user_id: str) -> str:
    """Empty for the person's own part; ` for <@X>` for a part held while covering X."""
    holder = standing.holder(part.role)
    return "" if holder == user_id else f" for {mention(holder)}"


def titled(
    title: str,
    sections: Sequence[tuple[str, Sequence[str], int]],
    footer: str,
    *,
    limit: int = LIST_LIMIT,
) -> tuple[str, list[Block]]:
    """A report: a header, then (heading, lines, total) sections of at most `limit` lines,
    each split into as many section blocks as Slack's text limit needs. The title and the
    headings are plain text; the lines and the footer are mrkdwn."""
    blocks: list[Block] = [header(title)]
    text = [esc(title)]
    for heading, lines, total in sections:
        shown = list(lines[:limit])
        if total > len(shown):
            shown.append(f"…and {total - len(shown)} more.")
        if not shown:
            shown = ["_Nothing._"]
        chunk = f"*{esc(heading)}*"
        for line in shown:
            if len(chunk) + len(line) + 1 > SECTION_TEXT_MAX:
                blocks.append(section(chunk))
                chunk = ""
            chunk = f"{chunk}\n{line}" if chunk else line
        blocks.append(section(chunk))
        text.append(f"{esc(heading)}:\n" + "\n".join(shown))
    if footer:
        blocks += [divider(), context(footer)]
    return "\n".join(text), blocks
