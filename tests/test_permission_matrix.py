"""Every cell of the README's permission table, through the real app.

For each action, each role tries it as Slack would deliver it (the command, the button, the
form), and the outcome must be what `flows.permissions.RULES` says: allowed or refused.
One account, with someone in every role:

AE Ana · CSM Chen · AM Ami · Ops Oli (the account's ops_email) · manager Maya (the account's; Lee, in BATON_MANAGERS, for the
workspace-wide `/baton status`) · admin Ola (a workspace admin) · backup Sam (covering for
Ana, Chen and Ami) · anyone else Zed (a member who is none of these).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.checkins.blocks import CHECKIN_EDIT, CLARIFY_OPEN, RATE_OPEN
from bot.handoff.blocks import ACKNOWLEDGE, KICKOFF_HELD, OPEN_MARKETING, OPEN_PACKET
from bot.renewal.blocks import SNOOZE
from bot.sandbox import SlackDriver, SlackSandbox, User
from bot.sandbox.state import Channel, Message
from flows.permissions import Action, Role, may
from storage.accounts import get_account
from storage.db import session_scope
from storage.models import Checkin, Coverage, Milestone
from storage.ownership import start_coverage
from tests.helpers import AE_ANSWERS, account_channel, ask, closed_won, deal, opened_view

SOON = (date.today() + timedelta(days=30)).isoformat()


@dataclass
class Cast:
    driver: SlackDriver
    sandbox: SlackSandbox
    bot: object
    account_id: int
    channel: Channel
    who: dict[Role, User]
    lee: User
    checkins: dict[str, int] = field(default_factory=dict)

    def account(self):  # noqa: ANN201
        db = self.bot.services.db  # type: ignore[attr-defined]
        return db.run_sync(get_account, self.sandbox.workspace.team_id, self.account_id)

    def message(self, fragment: str) -> Message:
        return next(m for m in self.channel.messages if fragment in m.text)


@pytest.fixture
async def cast(driver, sandbox, bot, people) -> Cast:  # noqa: ANN001
    ws = sandbox.workspace
    ami = ws.add_user("ami", "Ami Am", "ami@example.test")
    oli = ws.add_user("oli", "Oli Ops", "oli@example.test")
    ola = ws.add_user("ola", "Ola Admin", "ola@example.test")
    ola.is_admin = True
    sam = ws.add_user("sam", "Sam Backup", "sam@example.test")
    zed = ws.add_user("zed", "Zed Else", "zed@example.test")
    lee = ws.add_user("lee", "Lee Lead", "lee@example.test")
    settings = bot.services.settings
    settings.baton_managers = lee.id
    settings.baton_marketing_required = False
    reply = await closed_won(driver, deal(am_email=ami.email, ops_email=oli.email))
    assert reply.status == 202, reply.text
    now = bot.services.clock()
    for person in (people.ae, people.csm, ami):
        bot.services.db.run_sync(
            start_coverage,
            Coverage(
                team_id=ws.team_id,
                user_id=person.id,
                backup_user_id=sam.id,
                starts_at=now - timedelta(minutes=1),
                ends_at=now + timedelta(days=30),
                until=(now + timedelta(days=29)).date(),
                created_by=people.manager.id,
                created_at=now,
            ),
            immediate=True,
        )
    who = {
        Role.AE: people.ae,
        Role.CSM: people.csm,
        Role.AM: ami,
        Role.OPS: oli,
        Role.MANAGER: people.manager,
        Role.ADMIN: ola,
        Role.BACKUP: sam,
        Role.ANYONE: zed,
    }
    return Cast(driver, sandbox, bot, reply.json["account_id"], account_channel(ws), who, lee)


# --- how an attempt turns out ---------------------------------------------------------
async def outcome(cast: Cast, user: User, attempt: Awaitable[object]) -> tuple[bool, str]:
    """(a modal opened for them, what Baton said to them) once the listener has answered."""
    ws, sandbox = cast.sandbox.workspace, cast.sandbox
    views, posts, notes = set(ws.views), len(sandbox.response_posts), len(ws.ephemerals)
    await attempt

    def said() -> list[str]:
        answers = [
            p.body.get("text", "") for p in sandbox.response_posts[posts:] if p.user == user.id
        ]
        answers += [e.text for e in ws.ephemerals[notes:] if e.user == user.id]
        return [a for a in answers if a]

    def opened() -> list[str]:
        return [v for v in set(ws.views) - views if ws.views[v].user == user.id]

    assert opened() or said()
    modals, answer = opened(), " ".join(said())
    for view_id in modals:  # the person closes the form: the next one starts clean
        ws.close_view(view_id)
    return bool(modals), answer


async def click(cast: Cast, user: User, action_id: str, value: object, message: Message) -> None:
    block = next((b for b in message.blocks or [] if b.get("type") == "actions"), None)
    await cast.driver.click(
        user,
        action_id,
        value=str(value),
        block_id=block["block_id"] if block else "actions",
        channel=cast.channel,
        message_ts=message.ts,
    )


async def opens(cast: Cast, user: User, attempt: Awaitable[object]) -> bool:
    opened, _said = await outcome(cast, user, attempt)
    return opened


# --- setting the scene for the actions that need one ------------------------------------
async def complete_packet(cast: Cast) -> None:
    ana = cast.who[Role.AE]
    request = cast.message("is due")
    await click(cast, ana, OPEN_PACKET, cast.account_id, request)
    view = opened_view(cast.sandbox.workspace, ana.id)
    await cast.driver.submit(ana, view, AE_ANSWERS)
    assert any("Next: the joint kickoff" in m.text for m in cast.channel.messages)


async def checkin_by_chen(cast: Cast, **extra: object) -> int:
    chen = cast.who[Role.CSM]
    await cast.driver.command(chen, "checkin acme")
    view = opened_view(cast.sandbox.workspace, chen.id)
    values = {"summary": "Rollout on track.", "sentiment": "positive", **extra}
    reply = await cast.driver.submit(chen, view, values)
    assert reply.status == 200 and not reply.text, reply.text
    with session_scope(cast.bot.services.engine) as session:
        checkin = session.scalars(select(Checkin).order_by(Checkin.id.desc())).first()
    assert checkin is not None
    return checkin.id


def milestone_of(cast: Cast, owner: str, tag: str) -> int:
    """A milestone of the current cycle owned by `owner` (ae, csm, am or ops) alone."""
    account = cast.account()
    with session_scope(cast.bot.services.engine) as session:
        row = Milestone(
            team_id=account.team_id,
            account_id=account.id,
            renewal_date=account.renewal_date,
            key=f"matrix-{owner}-{tag}",
            title=f"Step for the {owner}",
            due_date=account.renewal_date - timedelta(days=100),
            owners=[owner],
            created_at=datetime.now(UTC),
        )
        session.add(row)
        session.flush()
        return int(row.id)


# --- each action, tried by one person --------------------------------------------------
Try = Callable[[Cast, Role, User], Awaitable[bool]]


async def try_create(cast: Cast, role: Role, user: User) -> bool:
    return await opens(cast, user, cast.driver.command(user, "new"))


async def try_change(cast: Cast, role: Role, user: User) -> bool:
    maya = cast.who[Role.MANAGER]
    await cast.driver.command(maya, "new")
    view = opened_view(cast.sandbox.workspace, maya.id)
    view.user = user.id  # the same form, submitted by this person
    arr = 50_000 + list(Role).index(role)
    form = {"account_name": "Acme Robotics", "crm_id": "D-100", "arr": str(arr)}
    form |= {"ae": cast.who[Role.AE].id, "csm": cast.who[Role.CSM].id, "manager": maya.id}
    reply = await cast.driver.submit(user, view, form)
    cast.sandbox.workspace.close_view(view.id)
    if reply.text:
        assert "errors" in reply.json
        return False
    assert cast.account().arr == arr
    return True


async def try_fill(cast: Cast, role: Role, user: User) -> bool:
    request = cast.message("is due")
    return await opens(cast, user, click(cast, user, OPEN_PACKET, cast.account_id, request))


async def try_marketing(cast: Cast, role: Role, user: User) -> bool:
    request = cast.message("is due")
    return await opens(cast, user, click(cast, user, OPEN_MARKETING, cast.account_id, request))


async def _once(cast: Cast, user: User, action: str, column: str, fragment: str) -> bool:
    """A do-once button: allowed is doing it, or being told it is done already."""
    before = getattr(cast.account(), column)
    posts = cast.sandbox.response_posts
    count = len(posts)

    def answers() -> list[str]:
        return [p.body.get("text", "") for p in posts[count:] if p.user == user.id]

    await click(cast, user, action, cast.account_id, cast.message(fragment))
    assert getattr(cast.account(), column) != before or bool(answers())
    return getattr(cast.account(), column) != before or "already" in " ".join(answers())


async def try_acknowledge(cast: Cast, role: Role, user: User) -> bool:
    if cast.account().packet_completed_at is None:
        await complete_packet(cast)
    return await _once(cast, user, ACKNOWLEDGE, "csm_acknowledged_at", "is complete")


async def try_kickoff(cast: Cast, role: Role, user: User) -> bool:
    if cast.account().packet_completed_at is None:
        await complete_packet(cast)
    return await _once(cast, user, KICKOFF_HELD, "kickoff_held_at", "Next: the joint kickoff")


async def try_checkin(cast: Cast, role: Role, user: User) -> bool:
    return await opens(cast, user, cast.driver.command(user, "checkin acme"))


async def _checkin_id(cast: Cast, kind: str) -> int:
    """Chen's check-in (with an expectation mismatch for `kind` "mismatch"), logged once."""
    if kind not in cast.checkins:
        extra = {"mismatch": ["yes"], "promised": "Free SSO."} if kind == "mismatch" else {}
        cast.checkins[kind] = await checkin_by_chen(cast, **extra)
    return cast.checkins[kind]


async def try_edit(cast: Cast, role: Role, user: User) -> bool:
    checkin = await _checkin_id(cast, "plain")
    welcome = cast.message("Welcome")
    return await opens(cast, user, click(cast, user, CHECKIN_EDIT, checkin, welcome))


async def try_clarify(cast: Cast, role: Role, user: User) -> bool:
    checkin = await _checkin_id(cast, "mismatch")
    welcome = cast.message("Welcome")
    return await opens(cast, user, click(cast, user, CLARIFY_OPEN, checkin, welcome))


async def try_rate(cast: Cast, role: Role, user: User) -> bool:
    welcome = cast.message("Welcome")
    return await opens(cast, user, click(cast, user, RATE_OPEN, cast.account_id, welcome))


async def try_milestone(cast: Cast, role: Role, user: User) -> bool:
    # The AE, CSM, AM and Ops each try a step the playbook gives them; the others a CSM's.
    owner = {Role.AE: "ae", Role.AM: "am", Role.OPS: "ops"}.get(role, "csm")
    milestone = milestone_of(cast, owner, role.name.lower())
    welcome = cast.message("Welcome")
    _opened, said = await outcome(cast, user, click(cast, user, f"{SNOOZE}_1", milestone, welcome))
    return "nudge again" in said


async def try_outcome(cast: Cast, role: Role, user: User) -> bool:
    return await opens(cast, user, cast.driver.command(user, "churned acme"))


async def try_read(cast: Cast, role: Role, user: User) -> bool:
    return "Acme Robotics" in await ask(cast.driver, user, "owner acme")


async def try_cover_self(cast: Cast, role: Role, user: User) -> bool:
    backup = cast.lee if user is not cast.lee else cast.who[Role.ANYONE]
    said = await ask(cast.driver, user, f"cover <@{user.id}> with <@{backup.id}> until {SOON}")
    return "covers for" in said


async def try_cover_other(cast: Cast, role: Role, user: User) -> bool:
    away = cast.who[Role.CSM] if role == Role.AE else cast.who[Role.AE]
    said = await ask(cast.driver, user, f"cover <@{away.id}> with <@{cast.lee.id}> until {SOON}")
    return "covers for" in said


async def try_assign(cast: Cast, role: Role, user: User) -> bool:
    said = await ask(cast.driver, user, f"assign acme am <@{cast.lee.id}>")
    return said.startswith("Done:") or "is already the AM" in said


async def try_reopen(cast: Cast, role: Role, user: User) -> bool:
    said = await ask(cast.driver, user, "reopen acme")
    return not said.startswith("Only a manager")


async def try_status(cast: Cast, role: Role, user: User) -> bool:
    return (await ask(cast.driver, user, "status")).startswith(":stethoscope:")


async def try_stats(cast: Cast, role: Role, user: User) -> bool:
    return (await ask(cast.driver, user, "stats")).startswith(":bar_chart:")


async def try_start_pilot(cast: Cast, role: Role, user: User) -> bool:
    # Once one role has put Acme in a pilot, the next one allowed is told it already is.
    said = await ask(cast.driver, user, f"pilot start m-{role.name.lower()} C acme")
    return said.startswith(":test_tube: Pilot") or "is already in the pilot" in said


TRIES: dict[Action, Try] = {
    Action.CREATE_ACCOUNT: try_create,
    Action.CHANGE_ACCOUNT: try_change,
    Action.FILL_PACKET: try_fill,
    Action.ADD_MARKETING: try_marketing,
    Action.ACKNOWLEDGE_PACKET: try_acknowledge,
    Action.LOG_KICKOFF: try_kickoff,
    Action.LOG_CHECKIN: try_checkin,
    Action.EDIT_CHECKIN: try_edit,
    Action.CLARIFY: try_clarify,
    Action.RATE_PACKET: try_rate,
    Action.MILESTONE: try_milestone,
    Action.RECORD_OUTCOME: try_outcome,
    Action.READ_ACCOUNT: try_read,
    Action.COVER_SELF: try_cover_self,
    Action.COVER_OTHER: try_cover_other,
    Action.ASSIGN: try_assign,
    Action.REOPEN: try_reopen,
    Action.STATUS: try_status,
    Action.STATS: try_stats,
    Action.START_PILOT: try_start_pilot,
}


def test_every_action_is_tried() -> None:
    assert set(TRIES) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=[a.name.lower() for a in Action])
async def test_each_role_gets_what_the_table_says(cast: Cast, action: Action) -> None:
    results = {}
    for role, user in cast.who.items():
        if action == Action.STATUS and role == Role.MANAGER:
            user = cast.lee  # the workspace-wide view is BATON_MANAGERS'
        results[role] = await TRIES[action](cast, role, user)
    expected = {role: may(action, [role]) for role in cast.who}
    assert results == expected
