"""`baton demo`: the whole lifecycle on the sandbox, with a simulated clock, no network.

Each part of the product adds its scene here; the transcript prints, in order, what each
person saw in Slack and on which simulated date (in their own time zone).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import secrets
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console
from sqlmodel import Session, select

from bot.crm.import_cli import run_within
from bot.handoff.webhook_auth import signed_headers
from bot.outbox.tick import run_tick
from bot.outbox.upcoming import next_work
from bot.people.introductions import introduce
from bot.platform.clock import SimulatedClock
from bot.platform.scopes import granted_scopes
from bot.platform.settings import load_settings
from bot.runtime.runner import BotServer, identify, set_startup_aside
from bot.sandbox import Message, OpenView, SandboxWorkspace, SlackDriver, SlackSandbox, User
from bot.sandbox.hubspot import HubSpotSandbox, HubSpotWebhooks
from bot.sandbox.terminal import PLAIN, Style, mrkdwn, style_for
from bot.sandbox.watch import Watcher, names_of
from bot.stats.report import write_report
from flows.roles import Role
from storage.models import Account, Milestone, MilestoneStatus

# A Saturday: nothing is owed on weekends. 18:00 UTC is 10:00 in Los Angeles, where the
# manager tries Baton out; every later moment is chosen inside the working hours of the
# person who acts then (see `HOURS`).
START = datetime(2027, 1, 2, 18, 0, tzinfo=UTC)
TICK = timedelta(minutes=30)
HOURS = (8, 18)  # a person's working hours, in their own time zone: 08:00 to 18:00
WEBHOOK_SECRET = "demo-webhook-secret"
HUBSPOT_SECRET = "demo-hubspot-client-secret"
# Written in the system's temporary directory: the demo leaves nothing where it runs.
REPORT = "baton-demo-report.html"
# The team's own CRM mapping: HubSpot's default, plus the CS manager their deals carry.
MAPPING = """[hubspot.fields]
manager_email = "owner:cs_manager"
"""

ACME = {  # a 12-month contract from the day it closes (Mon 4 Jan 2027)
    "crm_id": "006-ACME",
    "account_name": "Acme Robotics",
    "arr": 80000,
    "contract_start": "2027-01-04",
    "term_months": 12,
    "renewal_date": "2028-01-04",
    "ae_email": "ana@northwind.test",
    "csm_email": "chen@northwind.test",
    "manager_email": "maya@northwind.test",
    "champion_email": "priya@acme.test",
    "crm_url": "https://crm.northwind.test/deals/006-ACME",
}
INITECH = {  # five months, co-termed with the contract of its parent company (5 Jun)
    "crm_id": "006-INTC",
    "account_name": "Initech",
    "arr": 30000,
    "contract_start": "2027-01-05",
    "term_months": 5,
    "renewal_date": "2027-06-05",
    "ae_email": "ana@northwind.test",
    "csm_email": "chen@northwind.test",
    "manager_email": "maya@northwind.test",
}
INITECH_NEXT_RENEWAL = "2028-06-05"  # renewed for a full year, with its parent
# The accounts Northwind already had when it started with Baton (a CSV from its CRM):
# 12-month contracts, renewing on the anniversary of their start.
BOOK = """crm_id,account_name,arr,contract_start,renewal_date,ae_email,csm_email,manager_email
006-VDLY,Vandelay Industries,"$64,000",2026-05-10,2027-05-10,ana@northwind.test,chen@northwind.test,maya@northwind.test
006-SOYL,Soylent,41000,2026-03-15,2027-03-15,ana@northwind.test,sam@northwind,maya@northwind.test
"""
BOOK_FIXED = BOOK.replace("sam@northwind,", "sam@northwind.test,")
GLOBEX_DEAL = {  # in HubSpot, as the AE left it before it closed: 12 months from close
    "dealname": "Globex – annual platform",
    "amount": "30000",
    "closedate": "2027-01-06T15:00:00Z",
    "dealstage": "contractsent",
    "renewal_date": "2028-01-06",
}
PACKET = {
    "goal": "“Know which renewals are at risk a quarter before they lapse.”",
    "objections": "SSO and audit logs: answered with SAML on the Growth tier and our SOC 2 report.",
    "competitors": "Gainsight: too heavy for a six-person CS team, a 4-month rollout.",
    "success_metric": "Renewal forecast within 5% of actual by the end of Q3.",
    "champion": "Priya Shah, VP Customer Success (ran the evaluation)",
    "economic_buyer": "Tom Reed, CFO: wants churn cost visible to the board",
    "daily_users": "CS team (6 CSMs) and two RevOps analysts",
    "skeptics": "none identified",
    "month6_risks": "Salesforce sync lagging; no exec QBR booked; adoption under half the team",
    "retention_model": "B",
}
# Each customer in its own words: no two accounts share a champion or a goal.
INITECH_PACKET = {
    "goal": "“One renewal calendar for the parent company and us, not two.”",
    "objections": "Co-terming: answered with a five-month first term ending with the parent's.",
    "competitors": "The parent's spreadsheet process; nothing else was evaluated.",
    "success_metric": "Every renewal step logged on time for the June renewal.",
    "champion": "Bill Lumbergh, Head of Customer Operations",
    "economic_buyer": "Bill Lumbergh (signs up to USD 50,000)",
    "daily_users": "Two account managers",
    "skeptics": "The parent's IT lead: wants one tool for both companies",
    "month6_risks": "The parent's renewal slips and theirs with it; the two AMs never log in",
    "retention_model": "A",
}
GLOBEX_PACKET = {
    "goal": "“Stop losing accounts in the first 90 days after the sale.”",
    "objections": "Price: answered with an annual prepay discount of 10%.",
    "competitors": "ChurnZero: shortlisted, dropped for its Slack integration.",
    "success_metric": "Day-90 churn under 3% for the deals closed this year.",
    "champion": "Hank Scorpio, COO",
    "economic_buyer": "Hank Scorpio, COO",
    "daily_users": "Eight onboarding managers",
    "skeptics": "Their VP Sales, who built the tracker they use today",
    "month6_risks": "Onboarding managers keep their own trackers; the COO loses interest",
    "retention_model": "A",
}


class Demo:
    def __init__(self, out: Callable[[str], None] = print, style: Style = PLAIN) -> None:
        self.out = out
        self.style = style
        self.clock = SimulatedClock(START)
        self.workspace = SandboxWorkspace(
            team_name="Northwind (sandbox)", bot_scopes=granted_scopes()
        )
        self._stamp = 0  # the last webhook signing time
        self.workspace.use_clock(self.clock)
        self.sandbox = SlackSandbox(self.workspace)
        self.hub = HubSpotSandbox(clock=self.clock)
        self.watcher = Watcher(self.workspace, style)
        add = self.workspace.add_user
        self.ana = add("ana", "Ana Ruiz", "ana@northwind.test", "America/New_York")
        self.chen = add("chen", "Chen Wei", "chen@northwind.test", "Europe/London")
        self.sam = add("sam", "Sam Okafor", "sam@northwind.test", "Europe/Dublin")
        self.maya = add("maya", "Maya Patel", "maya@northwind.test", "America/Los_Angeles")
        self.mo = add("mo", "Mo Adebayo", "mo@northwind.test", "Europe/London")
        self.roles = {
            self.ana.id: "AE",
            self.chen.id: "CSM",
            self.sam.id: "CSM",
            self.maya.id: "manager",
            self.mo.id: "marketing ops",
        }
        for user in (self.ana, self.chen, self.sam, self.maya, self.mo):
            # Open now, so DMs sent at the same moment show in this order, not in the order
            # concurrent sends first reached the sandbox (`Watcher.new`: channel order).
            self.workspace.dm_channel(user.id)
        self.shown: list[str] = []  # what the transcript showed, by scene group (the summary)
        self._worked: dict[str, int] = {}  # DM messages the team has gone through, by person

    async def run(self) -> None:
        with tempfile.TemporaryDirectory(prefix="baton-demo-") as tmp:
            self.tmp = tmp
            api_url = await self.sandbox.start()
            secret = secrets.token_hex(16)
            hubspot_token = await self._start_hubspot()
            mapping = Path(tmp) / "mapping.toml"
            mapping.write_text(MAPPING, encoding="utf-8")
            settings = load_settings(
                env_file=None,
                slack_bot_token=self.workspace.bot_token,
                slack_signing_secret=secret,
                slack_api_url=api_url,
                database_url=f"sqlite:///{Path(tmp) / 'demo.db'}",
                baton_webhook_secret=WEBHOOK_SECRET,
                baton_marketing_users=self.mo.id,
                baton_slack_connect="true",
                baton_hubspot_client_secret=HUBSPOT_SECRET,
                baton_hubspot_token=hubspot_token,
                baton_hubspot_api_url=self.hub.base_url,
                baton_crm_mapping=str(mapping),
            )
            self.bot = BotServer(
                settings,
                self.clock,
                ticker=False,
                process_before_response=True,
                gil_turn_s=None,  # nobody waits on an answer here (see GIL_TURN_S)
            )
            url = await self.bot.start(host="127.0.0.1", port=0)
            set_startup_aside()  # as `baton run` does once it is up
            self.driver = SlackDriver(self.sandbox, url, secret)
            self.hubspot = HubSpotWebhooks(f"{url}/crm/hubspot", HUBSPOT_SECRET)
            try:
                await self._play()
                self._slack_errors()
                self._summary()
            finally:
                await self.hubspot.close()
                await self.driver.close()
                await self.bot.stop()
                await self.sandbox.stop()
                await self.hub.close()

    async def _start_hubspot(self) -> str:
        """Northwind's HubSpot: its people as deal owners, and Globex's deal, not won yet."""
        hub = self.hub
        await hub.start()
        self.portal = hub.add_portal(4815162).id
        for name in ("renewal_date", "csm_owner", "cs_manager"):
            hub.define_deal_property(
                self.portal, name, "date" if name == "renewal_date" else "string"
            )
        owner = {
            person.id: hub.add_owner(self.portal, person.email, *person.real_name.split(" ", 1))
            for person in (self.ana, self.chen, self.maya)
        }
        company = hub.add_company(self.portal, "Globex")
        self.globex = hub.add_deal(
            self.portal,
            {
                **GLOBEX_DEAL,
                "hubspot_owner_id": owner[self.ana.id],
                "csm_owner": owner[self.chen.id],
                "cs_manager": owner[self.maya.id],
            },
            company_ids=[company],
        )
        return hub.add_token(self.portal)

    async def _play(self) -> None:
        self.out("Baton demo: a sandbox Slack workspace, a throwaway database, a simulated clock.")
        self.out(
            "People: "
            + ", ".join(
                f"{u.real_name} ({self.roles[u.id]}, {_city(u.tz)})"
                for u in (self.ana, self.chen, self.sam, self.maya, self.mo)
            )
            + ". Each acts in their own working hours; every time is shown in the zone of "
            "the person who saw it (channel posts in UTC)."
        )
        await self._meet_baton()
        await self._import_book()
        await self._closed_won()
        await self._trust()
        await self._renewal_soon()
        await self._packet()
        await self._quiet_ae()
        await self._checkins()
        await self._renewal_year()
        await self._numbers()

    def _slack_errors(self) -> None:
        """What Slack would have shown people as errors (late or refused answers)."""
        problems = [*self.driver.late_acks, *self.sandbox.rejected_replies]
        if problems:
            self.out(f"Slack would have shown these as errors: {problems}")

    def _summary(self) -> None:
        """What the transcript showed, and what to run against a real workspace."""
        self.out("")
        self.out(self.style.bold("── What you saw " + "─" * 60))
        for line in self.shown:
            self.out(f"  • {line}")
        self.out("")
        self.out(self.style.bold("── Try it on your own workspace " + "─" * 44))
        for line in NEXT_STEPS:
            self.out(f"  {line}")

    # --- scenes -------------------------------------------------------------------------
    async def _meet_baton(self) -> None:
        self.recap(
            "Meeting Baton: `/baton help` once, a typo answered, the App Home, introductions "
            "at 09:00 local."
        )
        await self.scene("The manager asks Baton what it can do", who=self.maya)
        await self.command(self.maya, "help")
        await self.command(self.maya, "ownr acme")
        await self.home(self.maya)
        await self.scene(
            "Baton meets the team; each introduction waits for 09:00 on the next working day, "
            "in that person's time zone"
        )
        members = [
            (self.ana.id, Role.AE),
            (self.chen.id, Role.CSM),
            (self.sam.id, Role.CSM),
            (self.maya.id, Role.MANAGER),
        ]
        await introduce(
            self.bot.services, self.bot.services.client, self.workspace.team_id, members
        )
        await self.run_clock(until=self.when(self.maya, date(2027, 1, 4), 9))

    async def _import_book(self) -> None:
        self.recap(
            "`baton import`: a book with a bad row refused whole, then taken in, each "
            "account in its phase."
        )
        await self.scene("Before the first deal: RevOps brings in the book Northwind already has")
        book = Path(self.tmp) / "book.csv"
        book.write_text(BOOK, encoding="utf-8")
        await self.baton_import(book)
        book.write_text(BOOK_FIXED, encoding="utf-8")
        await self.baton_import(book)
        await self.tick()
        skipped = await self.bot.services.db.run(_skipped_steps, self.workspace.team_id)
        behind = "; ".join(f"{name}: {_counted(steps)}" for name, steps in skipped.items())
        self.note(
            "Both are past their handoff: no packet requests and no kickoff. The steps of "
            "their renewal year already behind them are skipped, not sent late"
            + (f" ({behind})" if behind else "")
            + ". The next ones come on their day."
        )
        self.show()

    async def baton_import(self, book: Path) -> None:
        out = io.StringIO()
        console = Console(file=out, width=100, highlight=False)
        args = argparse.Namespace(
            file=str(book), dry_run=False, no_channels=False, request_packets=False, team=None
        )
        code = await run_within(args, self.bot.services, identify, console)
        self.out(f"  $ baton import {book.name}")
        for line in out.getvalue().splitlines():
            if line.strip() and "━" not in line:  # the progress bars, drawn for a terminal
                self.out(f"    {line.rstrip()}")
        self.out(f"    (exit {code})")

    async def _closed_won(self) -> None:
        self.recap(
            "Closed-won from the CRM webhook: private and Slack Connect channels; replays, "
            "bad deals refused."
        )
        await self.scene(
            "The AE marks Acme Robotics closed-won in the CRM",
            at=self.when(self.ana, date(2027, 1, 4), 12, 30),
            who=self.ana,
        )
        reply = await self.webhook(ACME)
        self.note(f"CRM ← {reply.status} {reply.text}")
        self.show()
        channel = self.workspace.channel_by_name("acct-acme-robotics")
        shared = self.workspace.channel_by_name("ext-acme-robotics")
        assert channel is not None and shared is not None
        self.note(
            f"#{channel.name} is private and internal (ARR, packet, health never leave it); "
            f"the CRM record is bookmarked. The customer gets #{shared.name} of their own: "
            f"Slack Connect invitation sent to {', '.join(shared.shared_invites)} (the "
            "customer champion)."
        )
        again = await self.webhook(ACME)
        self.note(
            f"CRM redelivers the same deal ← {again.status} {again.text} (nothing new in Slack)"
        )
        replayed = await self.webhook(ACME, replay=True)
        self.note(f"Someone replays a captured delivery ← {replayed.status} {replayed.text}")
        bad = await self.webhook({**ACME, "crm_id": "", "arr": -5, "ae_email": "ana"})
        self.note(f"CRM sends a broken deal ← {bad.status} {bad.text}")
        await self.scene(
            "The AE does not get to the packet on the day of close; the next business "
            "morning, a reminder at 09:00 her time",
            at=self.when(self.ana, date(2027, 1, 5), 9),
            who=self.ana,
        )

    async def _trust(self) -> None:
        self.recap(
            "Trust: a takeover refused; an internal channel shared by hand stopped and reported."
        )
        await self.scene(
            "People try to take Acme Robotics over, or peek inside",
            at=self.when(self.ana, date(2027, 1, 5), 10),
            who=self.ana,
        )
        zed = self.workspace.add_user("zed", "Zed Okoro", "zed@northwind.test", "Europe/Berlin")
        self.roles[zed.id] = "no role on any account"
        await self.command(zed, "new")
        await self.command(self.ana, "new")
        view = self.workspace.views_of(self.ana.id)[-1]
        reply = await self.submit(
            self.ana,
            view,
            {
                "account_name": "Acme Robotics",
                "crm_id": ACME["crm_id"],
                "arr": "1",
                "ae": self.ana.id,
                "csm": self.chen.id,
                "manager": self.ana.id,
            },
        )
        self.workspace.close_view(view.id)
        self.show()
        error = json.loads(reply.text)["errors"]["crm_id"]
        self.note(f"The AE tries to rewrite Acme with herself as manager: the form says “{error}”")
        channel = self.workspace.channel_by_name("acct-acme-robotics")
        assert channel is not None
        await self.driver.channel_shared(channel, "T0ACME")
        self.note(f"Someone shares #{channel.name} with Acme's workspace by hand:")
        await self.tick()
        await self.driver.channel_unshared(channel, "T0ACME")
        self.note(f"#{channel.name} is unshared again: Baton posts there as before.")

    async def _renewal_soon(self) -> None:
        self.recap(
            "A five-month co-termed deal: the steps already behind it skipped, its packet in "
            "30 minutes."
        )
        await self.scene(
            "Initech closes: five months, co-termed with its parent company's contract "
            "(renews 5 Jun); months 5 and 6 of its renewal year are already behind it, so "
            "they are skipped, not sent late",
            at=self.when(self.ana, date(2027, 1, 5), 10, 30),
            who=self.ana,
        )
        reply = await self.webhook(INITECH)
        self.note(f"CRM ← {reply.status} {reply.text}")
        await self.run_clock(until=self.when(self.ana, date(2027, 1, 5), 11))
        skipped = await self.bot.services.db.run(_skipped_steps, self.workspace.team_id)
        self.note(f"Skipped for Initech: {_counted(skipped.get('Initech', ['nothing']))}.")
        channel = self.workspace.channel_by_name("acct-initech")
        assert channel is not None
        request = self.find(channel, "is due")
        view = await self.click(self.ana, request, channel, "baton_packet_open")
        assert view is not None
        await self.submit(self.ana, view, INITECH_PACKET)
        view = await self.click(self.mo, request, channel, "baton_marketing_open")
        assert view is not None
        await self.submit(self.mo, view, {"marketing": "Partner referral."})
        self.show()
        self.note("(The Acme Robotics story continues in the next scenes.)")

    async def _packet(self) -> None:
        self.recap(
            "The packet gate: the AE's part hers alone, a draft kept, inline errors, "
            "marketing, the kickoff."
        )
        channel = self.workspace.channel_by_name("acct-acme-robotics")
        assert channel is not None
        request = self.find(channel, "is due")
        await self.scene(
            "The CSM tries to fill the AE's part",
            at=self.when(self.chen, date(2027, 1, 5), 16, 30),
            who=self.chen,
        )
        await self.click(self.chen, request, channel, "baton_packet_open")
        await self.scene(
            "The AE opens the packet, types a line, and closes it to finish later", who=self.ana
        )
        view = await self.click(self.ana, request, channel, "baton_packet_open")
        assert view is not None
        await self.close(self.ana, view, {"goal": PACKET["goal"]})
        view = await self.click(self.ana, request, channel, "baton_packet_open")
        assert view is not None
        self.note("Her draft is back in the form. She submits it with only the goal:")
        reply = await self.submit(self.ana, view, {})
        errors = json.loads(reply.text)["errors"]
        self.note(
            f"The form stays open with {len(errors)} inline errors, e.g. “{errors['objections']}”"
        )
        await self.submit(
            self.ana,
            view,
            {
                **PACKET,
                "icp_exception": ["yes"],
                "icp_reason": "40 seats where our ICP starts at 150; they need a lot of hand-holding.",
            },
        )
        await self.scene(
            "Marketing ops adds what brought the buyer in; the gate opens", who=self.mo
        )
        marketing = self.find(self.workspace.dm_channel(self.mo.id), "Marketing context wanted")
        view = await self.click(
            self.mo, marketing, self.workspace.dm_channel(self.mo.id), "baton_marketing_open"
        )
        assert view is not None
        await self.submit(
            self.mo,
            view,
            {
                "marketing": "Webinar “Renewals on autopilot” (Oct); downloaded the churn "
                "benchmark; 3 visits to pricing."
            },
        )
        await self.scene("The CSM acknowledges the packet", who=self.chen)
        summary = self.find(channel, "Acme Robotics is complete")
        await self.click(self.chen, summary, channel, "baton_packet_ack")
        await self.scene(
            "The joint kickoffs are held, Acme Robotics's and Initech's; the AE logs them",
            at=self.when(self.ana, date(2027, 1, 6), 11),
            who=self.ana,
        )
        for account in (channel, self.workspace.channel_by_name("acct-initech")):
            assert account is not None
            kickoff = self.find(account, "Next: the joint kickoff")
            await self.click(self.ana, kickoff, account, "baton_kickoff_held")

    async def _renewal_nudge(self) -> None:
        self.recap(
            "A renewal milestone: day 120 nudged at the CSM's 09:00, snoozed three days, "
            "nudged, done."
        )
        csm_dm = self.workspace.dm_channel(self.chen.id)
        await self.scene(
            "Day 120 before Vandelay Industries renews: the CSM is nudged for the business "
            "review, and snoozes it 3 days",
            at=self.when(self.chen, date(2027, 1, 8), 9),
            who=self.chen,
        )
        await self.run_clock(until=self.when(self.chen, date(2027, 1, 8), 10))
        nudge = self.find(csm_dm, "Business review for Vandelay Industries is due.")
        await self.click(self.chen, nudge, csm_dm, "baton_milestone_snooze_3")
        await self.scene(
            "Nudged again after the snooze; the CSM holds the review and marks it done",
            at=self.when(self.chen, date(2027, 1, 12), 9),
            who=self.chen,
        )
        await self.run_clock(until=self.when(self.chen, date(2027, 1, 12), 10))
        nudge = [
            m
            for m in csm_dm.messages
            if m.text == "Business review for Vandelay Industries is due."
        ][-1]
        view = await self.click(self.chen, nudge, csm_dm, "baton_milestone_done")
        assert view is not None
        await self.submit(
            self.chen,
            view,
            {"outcome": "Review held: 2.4x ROI; Vandelay wants the analytics add-on quote."},
        )

    async def _quiet_ae(self) -> None:
        self.recap(
            "A HubSpot deal closed-won; its AE goes quiet: reminders, the manager's "
            "escalation, the packet."
        )
        await self.scene(
            "Globex closes too, in HubSpot, and this time the AE goes quiet",
            at=self.when(self.ana, date(2027, 1, 6), 11, 30),
            who=self.ana,
        )
        events = self.hub.change_deal(self.portal, self.globex, {"dealstage": "closedwon"})
        status = await self.hubspot.send(events)
        self.note(
            f"HubSpot → POST /crm/hubspot: {len(events)} signed event (deal {self.globex}, "
            f"dealstage → closedwon) ← {status}. Baton read the deal back from HubSpot's API: "
            "its company (Globex), amount, and its owners' emails (AE, CSM, CS manager)."
        )
        status = await self.hubspot.redeliver()
        self.note(f"HubSpot retries the same event ← {status}: taken once, nothing new in Slack")
        self.show()
        self.note("(ticking every 30 simulated minutes)")
        await self._renewal_nudge()
        await self.scene(
            "Nudged by her manager, the AE fills Globex's packet and marketing adds theirs; "
            "the reminders stop",
            at=self.when(self.ana, date(2027, 1, 12), 9, 30),
            who=self.ana,
        )
        globex = self.workspace.channel_by_name("acct-globex")
        assert globex is not None
        request = self.find(globex, "is due")
        view = await self.click(self.ana, request, globex, "baton_packet_open")
        assert view is not None
        await self.submit(self.ana, view, GLOBEX_PACKET)
        view = await self.click(self.mo, request, globex, "baton_marketing_open")
        assert view is not None
        await self.submit(self.mo, view, {"marketing": "Inbound from the pricing page."})

    async def _checkins(self) -> None:
        self.recap(
            "Days 8–30: five check-ins (the AE copied on four), a mismatch clarified, first "
            "value, day 30."
        )
        channel = self.workspace.channel_by_name("acct-acme-robotics")
        assert channel is not None
        csm_dm = self.workspace.dm_channel(self.chen.id)
        weeks = [
            ("Kickoff recap sent; SSO configured.", "positive", {}),
            ("Salesforce sync live for 2 of 6 CSMs.", "neutral", {}),
            (
                "Priya asks where real-time sync is.",
                "concerned",
                {"mismatch": ["yes"], "promised": "Real-time Salesforce sync, not hourly."},
            ),
            ("All 6 CSMs active; first forecast exported.", "positive", {"first_value": ["yes"]}),
            ("Forecast review with the CFO booked.", "positive", {}),
        ]
        for number, (summary, sentiment, extra) in enumerate(weeks, start=1):
            if number == 5:
                await self._day_30()
            day = date(2027, 1, 12) + timedelta(weeks=number - 1)
            await self.scene(
                f"Week {number}: the CSM logs check-in #{number}"
                + (" (the AE is no longer copied)" if number == 5 else ""),
                at=self.when(self.chen, day, 16),
                who=self.chen,
            )
            prompt = next(
                (
                    m
                    for m in csm_dm.messages
                    if m.text == f"Week 1 check-in for {ACME['account_name']}"
                ),
                None,
            )
            if prompt is not None and number == 1:
                view = await self.click(self.chen, prompt, csm_dm, "baton_checkin_open")
            else:
                await self.command(self.chen, "checkin acme", channel=channel)
                view = self.workspace.views_of(self.chen.id)[-1]
                self.show()
            assert view is not None
            await self.submit(
                self.chen, view, {"summary": summary, "sentiment": sentiment, **extra}
            )
            if extra.get("mismatch"):
                await self.run_clock(until=self.when(self.ana, day, 11, 30))
                await self._clarify()
        await self._soylent_renewed()

    async def _day_30(self) -> None:
        csm_dm = self.workspace.dm_channel(self.chen.id)
        await self.scene(
            "Day 30 for Acme Robotics: the CSM becomes the primary owner, and rates the packet",
            at=self.when(self.chen, date(2027, 2, 3), 9),
            who=self.chen,
        )
        await self.run_clock(until=self.when(self.chen, date(2027, 2, 3), 10))
        ask = next(m for m in csm_dm.messages if m.text.startswith("Rate the handoff packet"))
        view = await self.click(self.chen, ask, csm_dm, "baton_rate_open")
        assert view is not None
        await self.submit(
            self.chen,
            view,
            {"rating": "4", "missing": ["skeptics"], "comment": "Skeptics were not named."},
        )
        self.note("Rating stored: 4/5, “Skeptics” marked missing.")
        await self.scene(
            "The manager asks who owns Acme Robotics now that the handoff window is over",
            at=self.when(self.maya, date(2027, 2, 4), 9),
            who=self.maya,
        )
        await self.command(self.maya, "owner acme")

    async def _soylent_renewed(self) -> None:
        await self.scene(
            "Day 30 before Soylent renews: its CSM records the renewal with a command",
            at=self.when(self.sam, date(2027, 2, 12), 9),
            who=self.sam,
        )
        await self.run_clock(until=self.when(self.sam, date(2027, 2, 12), 10))
        await self.command(self.sam, "renewed soylent")

    async def _renewal_year(self) -> None:
        self.recap(
            "The renewal year: renewals from a nudge and a command, a red month-5 flag, "
            "cover by another CSM, days 120/90/30, the hand-back."
        )
        await self.scene(
            "Day 30 before Vandelay Industries renews: the CSM records the renewal from the nudge",
            at=self.when(self.chen, date(2027, 4, 9), 9),
            who=self.chen,
            quietly=True,
        )
        await self.answer_nudge(
            self.chen,
            date(2027, 4, 9),
            "Final redline and signature for Vandelay Industries",
            "baton_renewed",
            {"new_arr": "70000"},
        )

        await self.scene(
            "Day 30 before Initech renews: the CSM records the renewal, a full year this "
            "time, with its parent company's contract",
            at=self.when(self.chen, date(2027, 5, 6), 9),
            who=self.chen,
            quietly=True,
        )
        await self.answer_nudge(
            self.chen,
            date(2027, 5, 6),
            "Final redline and signature for Initech",
            "baton_renewed",
            {"new_date": INITECH_NEXT_RENEWAL, "new_arr": "36000"},
        )

        await self.scene(
            "Month 5 for Acme Robotics; the CSM flags it red",
            at=self.when(self.chen, date(2027, 6, 4), 9),
            who=self.chen,
            quietly=True,
        )
        await self.answer_nudge(
            self.chen,
            date(2027, 6, 4),
            "Month-5 health flag for Acme Robotics",
            "baton_health_flag",
            {
                "health": "red",
                "risks": "Priya (champion) is leaving in July; forecast usage fell 40% in May.",
                "expansion": "EMEA CS team (8 seats) once the Salesforce sync is real-time.",
            },
        )
        self.note("The AE and the manager hear of it at 09:00 their own time.")
        await self.run_clock(until=self.when(self.maya, date(2027, 6, 4), 9))
        await self.scene(
            "A week later: the weekly at-risk reminder, to the AE and the CSM",
            at=self.when(self.chen, date(2027, 6, 11), 9),
            who=self.chen,
            quietly=True,
        )
        await self.run_clock(until=self.when(self.ana, date(2027, 6, 11), 9))

        await self.scene(
            "The CSM goes on holiday; the manager arranges cover by another CSM, and asks "
            "again (months 6–8: the AE and the CSM co-own the renewal)",
            at=self.when(self.maya, date(2027, 7, 12), 9),
            who=self.maya,
            quietly=True,
        )
        await self.command(
            self.maya, f"cover <@{self.chen.id}|chen> with <@{self.sam.id}|sam> until 2027-07-23"
        )
        await self.command(self.maya, "owner acme")
        await self.command(self.maya, f"owner <@{self.sam.id}|sam>")
        await self.command(self.maya, "week")

        await self.scene(
            "Day 120 for Acme Robotics; the CSM runs the business review (the AE attends "
            "silent) and marks it done",
            at=self.when(self.chen, date(2027, 9, 6), 9),
            who=self.chen,
            quietly=True,
        )
        await self.answer_nudge(
            self.chen,
            date(2027, 9, 6),
            "Business review for Acme Robotics",
            "baton_milestone_done",
            {"outcome": "QBR held with the new champion: ROI 3.1x."},
        )

        await self.scene(
            "Day 90 for Acme Robotics. Model B: the AE keeps the commercial side, so the AE "
            "and the CSM are both nudged",
            at=self.when(self.chen, date(2027, 10, 6), 9),
            who=self.chen,
            quietly=True,
        )
        await self.run_clock(until=self.when(self.ana, date(2027, 10, 6), 9))

        await self.scene(
            "Day 30 for Acme Robotics; the AE records the renewal, and the account is handed "
            "back to the CSM",
            at=self.when(self.ana, date(2027, 12, 3), 9),
            who=self.ana,
            quietly=True,
        )
        await self.answer_nudge(
            self.ana,
            date(2027, 12, 3),
            "Final redline and signature for Acme Robotics",
            "baton_renewed",
            {"new_arr": "96000"},
        )
        channel = self.workspace.channel_by_name("acct-acme-robotics")
        assert channel is not None
        handback = self.find(channel, "renewed: hand-back to the CSM")
        await self.click(self.chen, handback, channel, "baton_handback_held")
        await self.scene(
            "After the renewal and the hand-back, the CSM owns the new cycle; the record",
            at=self.when(self.maya, date(2027, 12, 3), 9),
            who=self.maya,
        )
        await self.command(self.maya, "owner acme")
        await self.command(self.maya, "history acme on 2027-07-20")

    async def _numbers(self) -> None:
        self.recap(
            "The numbers: `/baton stats 365` in Slack and `baton report` as one offline HTML page."
        )
        await self.scene(
            "The year in numbers: the manager asks `/baton stats 365`, RevOps writes the report",
            who=self.maya,
        )
        await self.command(self.maya, "stats 365")
        out = Path(tempfile.gettempdir()) / REPORT
        end = self.clock()
        try:
            accounts = await write_report(
                self.bot.services, self.workspace.team_id, end - timedelta(days=365), end, out
            )
        except OSError as error:  # a read-only directory: the demo itself went fine
            self.note(f"$ baton report: could not write {out} ({error.strerror}).")
            return
        self.note(
            f"$ baton report --out {out}: wrote it ({accounts} accounts; one page, "
            "no network needed: open it in a browser). `baton seed --book 2000` fills a "
            "trial database with a year of history to see every number and chart on."
        )

    async def _clarify(self) -> None:
        ae_dm = self.workspace.dm_channel(self.ana.id)
        ask = next(m for m in reversed(ae_dm.messages) if "Please clarify" in m.text)
        view = await self.click(self.ana, ask, ae_dm, "baton_clarify_open")
        assert view is not None
        await self.submit(
            self.ana,
            view,
            {
                "clarification": "Hourly sync was agreed; real-time is on the Q3 roadmap, not "
                "promised."
            },
        )

    # --- what people do (each shown as they do it, in their own time) -------------------
    def act(self, user: User, what: str) -> None:
        self.show()
        self.out(f"  ▸ [{self.stamp(self.clock(), user)}] {self.who(user.id)} {what}")

    async def command(self, user: User, text: str, channel: Any = None) -> Any:
        typed = mrkdwn(text, names_of(self.workspace))
        self.act(user, f"types `/baton {typed}`")
        reply = await self.driver.command(user, text, channel=channel)
        self.show()
        return reply

    async def home(self, user: User) -> None:
        self.act(user, "opens Baton's App Home")
        await self.driver.open_home(user)
        self.show()

    async def click(
        self, user: User, message: Message, channel: Any, action: str
    ) -> OpenView | None:
        block = next(b for b in reversed(message.blocks or []) if b["type"] == "actions")
        element = next(e for e in block["elements"] if e["action_id"] == action)
        self.act(user, f"clicks [ {element['text']['text']} ]")
        before = set(self.workspace.views)
        await self.driver.click(
            user,
            action,
            value=element.get("value"),
            block_id=block["block_id"],
            channel=channel,
            message_ts=message.ts,
        )
        self.show()
        opened = [v for k, v in self.workspace.views.items() if k not in before]
        return opened[0] if opened else None

    async def submit(self, user: User, view: OpenView, values: dict[str, Any]) -> Any:
        self.act(user, f"submits “{_title(view)}”")
        reply = await self.driver.submit(user, view, values)
        self.show()
        return reply

    async def close(self, user: User, view: OpenView, values: dict[str, Any]) -> None:
        self.act(user, f"closes “{_title(view)}” without submitting it")
        await self.driver.close_view(user, view, values)
        self.show()

    # --- mechanics ----------------------------------------------------------------------
    async def webhook(self, body: dict[str, Any], *, replay: bool = False) -> Any:
        """A signed delivery, as a CRM sends it: signed anew each time (`replay`: the last
        delivery's exact headers again, as an attacker who captured it would send)."""
        raw = json.dumps(body).encode()
        if not replay:
            self._stamp = max(int(time.time()), self._stamp + 1)
        headers = signed_headers(WEBHOOK_SECRET, raw, self._stamp)
        return await self.driver.post("/crm/closed-won", raw, "application/json", headers)

    async def answer_nudge(
        self, user: User, day: date, fragment: str, action: str, values: dict[str, Any]
    ) -> None:
        """At 10:00 their time on `day`, they open their nudge's `action` and submit it."""
        await self.run_clock(until=self.when(user, day, 10))
        dm = self.workspace.dm_channel(user.id)
        nudge = self.find(dm, fragment)
        view = await self.click(user, nudge, dm, action)
        assert view is not None
        await self.submit(user, view, values)

    def find(self, channel: Any, fragment: str) -> Message:
        return next(m for m in channel.messages if fragment in m.text)

    def recap(self, line: str) -> None:
        self.shown.append(mrkdwn(line, style=self.style))

    async def scene(
        self,
        title: str,
        *,
        at: datetime | None = None,
        who: User | None = None,
        quietly: bool = False,
    ) -> None:
        """A scene's title, stamped with the simulated moment it starts (in the zone of
        `who`, the person it follows). With `at`, the clock first runs up to that moment:
        what comes before it is shown under the scene before (or, `quietly`, only
        counted), so everything under a title happens at or after its stamp."""
        self.show()
        if at is not None:
            if quietly:
                await self.fast_forward(until=at - timedelta(seconds=1))
            else:
                await self.run_clock(until=at, before=True)
        line = f"── {self.stamp(at or self.clock(), who)} · {title} "
        self.out("")
        self.out(self.style.bold(line + "─" * max(0, 78 - len(line))))
        if at is not None and self.clock() < at:
            self.clock.set(at)
            await self.tick()

    def note(self, text: str) -> None:
        self.out(f"  » {text}")

    def when(self, who: User, day: date, hour: int, minute: int = 0) -> datetime:
        """A wall-clock time in the person's own zone, as an instant."""
        local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(who.tz))
        assert HOURS[0] <= hour < HOURS[1], "people act in their working hours"
        return local.astimezone(UTC)

    async def tick(self) -> None:
        """The scheduler's tick at this very moment."""
        await run_tick(self.bot.services)
        self.show()

    async def run_clock(self, until: datetime, *, before: bool = False) -> None:
        """Advance simulated time beat by beat (every TICK), as `baton run`'s scheduler
        would, and tick at each beat by which anything is due. The beats before it are
        skipped: their ticks would find nothing to do (`bot.outbox.upcoming`). With
        `before`, stop short of `until` (its own beat is the next scene's)."""
        while self.clock() < until:
            due = await next_work(self.bot.services)
            ahead = min(until, due or until) - self.clock()
            step = TICK * max(1, -(-ahead // TICK))  # the first beat not before
            if before and self.clock() + step >= until:
                return
            self.clock.advance(step)
            await self.tick()

    async def fast_forward(self, until: datetime) -> None:
        """The quiet weeks between scenes, without showing each message. The clock jumps
        straight to the next moment a tick has work (`next_work`: a tick in between would
        find nothing to do), so every message still goes out on time."""
        start = self.clock()
        meanwhile = worked = 0
        for user in (self.ana, self.chen, self.sam):  # what came before was the scenes'
            self._worked[user.id] = len(self.workspace.dm_channel(user.id).messages)
        while self.clock() < until:
            due = await next_work(self.bot.services)
            step = min(until, due or until) - self.clock()
            self.clock.advance(max(step, timedelta(seconds=1)))
            await run_tick(self.bot.services)
            worked += await self._work_nudges()
            meanwhile += len(self.watcher.new())
        self.out("")
        self.out(
            f"   … {start:%d %b} → {until:%d %b %Y}: {meanwhile} more "
            f"message{'' if meanwhile == 1 else 's'} (check-in prompts, other accounts' "
            f"milestones…), not shown; the team marked {worked} nudged "
            f"step{'' if worked == 1 else 's'} done as they came"
        )

    async def _work_nudges(self) -> int:
        """In the quiet weeks the team does what it is nudged to, when the nudge comes (at
        09:00 their time): each renewal step is marked done, a month-5 flag is green. The
        scenes show the steps nobody answered, and what Baton does about them."""
        worked = 0
        for user in (self.ana, self.chen, self.sam):
            dm = self.workspace.dm_channel(user.id)
            for message in dm.messages[self._worked.get(user.id, 0) :]:
                buttons = {
                    e.get("action_id"): (b, e)
                    for b in message.blocks or []
                    if b.get("type") == "actions"
                    for e in b.get("elements", [])
                }
                if "baton_renewed" in buttons:
                    continue  # a renewal's outcome is recorded in its scene, not in passing
                for action, values in _QUIET_ANSWERS.items():
                    if action in buttons:
                        block, element = buttons[action]
                        before = set(self.workspace.views)
                        await self.driver.click(
                            user,
                            action,
                            value=element.get("value"),
                            block_id=block["block_id"],
                            channel=dm,
                            message_ts=message.ts,
                        )
                        opened = [v for k, v in self.workspace.views.items() if k not in before]
                        if opened:
                            await self.driver.submit(user, opened[0], values)
                            worked += 1
                        break
            self._worked[user.id] = len(dm.messages)
        return worked

    def stamp(self, instant: datetime, who: User | None = None) -> str:
        """`Mon 04 Jan 2027 09:00 London`: in the person's own zone (without one, UTC)."""
        if who is None:
            return f"{instant:%a %d %b %Y %H:%M} UTC"
        local = instant.astimezone(ZoneInfo(who.tz))
        return f"{local:%a %d %b %Y %H:%M} {_city(who.tz)}"

    def who(self, user_id: str) -> str:
        user = self.workspace.users[user_id]
        role = self.roles.get(user_id)
        return f"{user.real_name} ({role})" if role else user.real_name

    def show(self) -> None:
        """Personal things in the person's own time; channel posts once, with their readers."""
        for seen in self.watcher.new():
            if seen.where.startswith("#"):
                readers = ", ".join(self.who(u) for u in seen.user_ids)
                header = f"[{self.stamp(seen.at)}] {seen.where} · seen by {readers}"
            else:
                (user_id,) = seen.user_ids
                user = self.workspace.users[user_id]
                header = f"[{self.stamp(seen.at, user)}] {self.who(user_id)} · {seen.where}"
            self.out(self.style.dim(header))
            for line in seen.text.splitlines():
                self.out(f"    {line}")


# What to run against a real workspace (README: "Running it against your Slack workspace").
NEXT_STEPS = (
    "1. Create the Slack app from manifest.yml (api.slack.com/apps → From a manifest) and "
    "install it.",
    "2. Serve it: SLACK_BOT_TOKEN=xoxb-… SLACK_SIGNING_SECRET=… baton run   (add "
    "SLACK_APP_TOKEN=xapp-… for Socket Mode)",
    "3. Bring your book in: baton import accounts.csv --dry-run, then without --dry-run",
    "4. New deals: point the CRM's closed-won webhook at POST /crm/closed-won "
    "(BATON_WEBHOOK_SECRET), or run baton crm sync for HubSpot and Salesforce",
    "5. Watch it: baton status for what is owed; baton report --out report.html for the numbers",
    "6. Trial data first, if you like: baton seed --book 2000 on an empty database",
    "The README's “Running it against your Slack workspace” has every setting.",
)


# How the team answers a nudge in the quiet weeks (`Demo._work_nudges`).
_QUIET_ANSWERS: dict[str, dict[str, Any]] = {
    "baton_milestone_done": {"outcome": "Done."},
    "baton_health_flag": {"health": "green"},
}


def _skipped_steps(session: Session, team_id: str) -> dict[str, list[str]]:
    """The renewal steps skipped because their day had passed, by account name."""
    rows = session.exec(
        select(Account.name, Milestone.title)
        .join(Milestone, Milestone.account_id == Account.id)
        .where(Account.team_id == team_id, Milestone.status == MilestoneStatus.SKIPPED)
        .order_by(Account.id, Milestone.due_date)
    )
    skipped: dict[str, list[str]] = {}
    for name, title in rows:
        skipped.setdefault(name, []).append(title)
    return skipped


def _counted(titles: list[str]) -> str:
    """`AE relationship check-in ×5, Month-5 health flag`: each title once, in order, with
    how many times it was there (a monthly ritual skipped for five months)."""
    counts = Counter(titles)
    return ", ".join(f"{t} ×{counts[t]}" if counts[t] > 1 else t for t in dict.fromkeys(titles))


def _title(view: OpenView) -> str:
    return str(view.view.get("title", {}).get("text", ""))


def _city(tz: str) -> str:
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def main() -> int:
    demo = Demo(style=style_for(sys.stdout))
    asyncio.run(demo.run())
    return 0
