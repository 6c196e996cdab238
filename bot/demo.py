"""`baton demo`: the whole lifecycle on the sandbox, with a simulated clock, no network.

Each part of the product adds its scene here; the transcript prints, in order, what each
person saw in Slack and on which simulated date (in their own time zone).
"""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.clock import SimulatedClock
from bot.introductions import introduce
from bot.runner import BotServer
from bot.sandbox import SlackDriver, SlackSandbox, User, Workspace
from bot.sandbox.watch import Watcher
from bot.scopes import granted_scopes
from bot.settings import load_settings
from bot.tick import run_tick
from flows.roles import Role

START = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)  # a Saturday: nothing is owed on weekends
TICK = timedelta(minutes=30)


@dataclass
class Cast:
    ae: User
    csm: User
    manager: User

    def role_of(self, user_id: str) -> str:
        roles = {self.ae.id: "AE", self.csm.id: "CSM", self.manager.id: "manager"}
        return roles.get(user_id, "")


class Demo:
    def __init__(self, out: Callable[[str], None] = print) -> None:
        self.out = out
        self.clock = SimulatedClock(START)
        self.workspace = Workspace(team_name="Northwind (sandbox)", bot_scopes=granted_scopes())
        self.workspace.use_clock(self.clock)
        self.sandbox = SlackSandbox(self.workspace)
        self.watcher = Watcher(self.workspace)
        self.cast = Cast(
            ae=self.workspace.add_user("ana", "Ana Ruiz", "ana@northwind.test", "America/New_York"),
            csm=self.workspace.add_user("chen", "Chen Wei", "chen@northwind.test", "Europe/London"),
            manager=self.workspace.add_user(
                "maya", "Maya Patel", "maya@northwind.test", "America/Los_Angeles"
            ),
        )

    async def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="baton-demo-") as tmp:
            api_url = await self.sandbox.start()
            secret = secrets.token_hex(16)
            settings = load_settings(
                env_file=None,
                slack_bot_token=self.workspace.bot_token,
                slack_signing_secret=secret,
                slack_api_url=api_url,
                database_url=f"sqlite:///{Path(tmp) / 'demo.db'}",
                baton_timezone="UTC",
            )
            bot = BotServer(settings, self.clock, ticker=False)
            url = await bot.start(host="127.0.0.1", port=0)
            driver = SlackDriver(self.sandbox, url, secret)
            try:
                await self._play(bot, driver)
            finally:
                await driver.close()
                await bot.stop()
                await self.sandbox.stop()

    async def _play(self, bot: BotServer, driver: SlackDriver) -> None:
        cast = self.cast
        self.out("Baton demo: a sandbox Slack workspace, a throwaway database, a simulated clock.")
        self.out(
            f"People: {cast.ae.real_name} (AE, New York), {cast.csm.real_name} (CSM, London), "
            f"{cast.manager.real_name} (manager, San Francisco)."
        )

        self.scene("A manager asks Baton what it can do")
        await driver.command(cast.manager, "help")
        await driver.command(cast.manager, "ownr acme")
        self.show()

        self.scene("The manager opens Baton's App Home and clicks “Show commands”")
        await driver.open_home(cast.manager)
        await driver.click(cast.manager, "baton_help_open", block_id="home_actions", home=True)
        self.show()

        self.scene(
            "Baton meets the team on a Saturday: introductions wait for 09:00 Monday, "
            "each in the person's own time zone"
        )
        members = [(cast.ae.id, Role.AE), (cast.csm.id, Role.CSM), (cast.manager.id, Role.MANAGER)]
        await introduce(bot.services, bot.bolt_app.client, self.workspace.team_id, members)
        await self.run_clock(bot, until=START + timedelta(days=3))

    def scene(self, title: str) -> None:
        self.out("")
        self.out(f"── {title} " + "─" * max(0, 70 - len(title)))

    async def run_clock(self, bot: BotServer, until: datetime) -> None:
        """Advance simulated time tick by tick, as `baton run`'s scheduler would."""
        while self.clock() < until:
            self.clock.advance(TICK)
            await run_tick(bot.services)
            self.show()

    def show(self) -> None:
        for seen in self.watcher.new():
            for user_id in seen.user_ids:
                user = self.workspace.users[user_id]
                local = seen.at.astimezone(ZoneInfo(user.tz))
                stamp = local.strftime("%a %d %b %Y %H:%M") + f" {_city(user.tz)}"
                role = self.cast.role_of(user_id)
                who = f"{user.real_name} ({role})" if role else user.real_name
                self.out(f"[{stamp}] {who} · {seen.where}")
                for line in seen.text.splitlines():
                    self.out(f"    {line}")


def _city(tz: str) -> str:
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def main() -> int:
    asyncio.run(Demo().run())
    return 0
