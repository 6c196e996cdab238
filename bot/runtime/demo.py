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
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from rich.console import Console

from bot.crm.import_cli import run_within
from bot.handoff.webhook_auth import signed_headers
from bot.outbox.tick import run_tick
from bot.outbox.upcoming import next_work
from bot.people.introductions import introduce
from bot.platform.clock import SimulatedClock
from bot.platform.scopes import granted_scopes
from bot.platform.settings import load_settings
from bot.runtime.runner import BotServer, identify
from bot.sandbox import Message, OpenView, SandboxWorkspace, SlackDriver, SlackSandbox, User
from bot.sandbox.hubspot import HubSpotSandbox, HubSpotWebhooks
from bot.sandbox.watch import Watcher
from bot.stats.report import write_report
from flows.roles import Role

START = datetime(2027, 1, 2, 12, 0, tzinfo=UTC)  # a Saturday: nothing is owed on weekends
TICK = timedelta(minutes=30)
WEBHOOK_SECRET = "demo-webhook-secret"
HUBSPOT_SECRET = "demo-hubspot-client-secret"
# Written in the system's temporary directory: the demo leaves nothing where it runs.
REPORT = "baton-demo-report.html"
# The team's own CRM mapping: HubSpot's default, plus the CS manager their deals carry.
MAPPING = """[hubspot.fields]
manager_email = "owner:cs_manager"
"""

ACME = {
    "crm_id": "006-ACME",
    "account_name": "Acme Robotics",
    "arr": 80000,
    "renewal_date": "2028-01-04",
    "ae_email": "ana@northwind.test",
    "csm_email": "chen@northwind.test",
    "manager_email": "maya@northwind.test",
    "champion_email": "priya@acme.test",
    "crm_url": "https://crm.northwind.test/deals/006-ACME",
}
INITECH = {
    "crm_id": "006-INTC",
    "account_name": "Initech",
    "arr": 30000,
    "renewal_date": "2027-05-10",
    "ae_email": "ana@northwind.test",
    "csm_email": "chen@northwind.test",
    "manager_email": "maya@northwind.test",
}
# The accounts Northwind already had when it started with Baton (a CSV from its CRM).
BOOK = """crm_id,account_name,arr,contract_start,renewal_date,ae_email,csm_email,manager_email
006-VDLY,Vandelay Industries,"$64,000",2026-06-01,2027-06-01,ana@northwind.test,chen@northwind.test,maya@northwind.test
006-SOYL,Soylent,41000,2026-03-15,2027-03-15,ana@northwind.test,chen@northwind,maya@northwind.test
"""
BOOK_FIXED = BOOK.replace("chen@northwind,", "chen@northwind.test,")
GLOBEX_DEAL = {  # in HubSpot, as the AE left it before it closed
    "dealname": "Globex – annual platform",
    "amount": "30000",
    "closedate": "2027-01-06T15:00:00Z",
    "dealstage": "contractsent",
    "renewal_date": "2028-01-05",
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


class Demo:
    def __init__(self, out: Callable[[str], None] = print) -> None:
        self.out = out
        self.clock = SimulatedClock(START)
        self.workspace = SandboxWorkspace(
            team_name="Northwind (sandbox)", bot_scopes=granted_scopes()
        )
        self._stamp = 0  # the last webhook signing time
        self.workspace.use_clock(self.clock)
        self.sandbox = SlackSandbox(self.workspace)
        self.hub = HubSpotSandbox(clock=self.clock)
        self.watcher = Watcher(self.workspace)
        add = self.workspace.add_user
        self.ana = add("ana", "Ana Ruiz", "ana@northwind.test", "America/New_York")
        self.chen = add("chen", "Chen Wei", "chen@northwind.test", "Europe/London")
        self.maya = add("maya", "Maya Patel", "maya@northwind.test", "America/Los_Angeles")
        self.mo = add("mo", "Mo Adebayo", "mo@northwind.test", "Europe/London")
        self.roles = {
            self.ana.id: "AE",
            self.chen.id: "CSM",
            self.maya.id: "manager",
            self.mo.id: "marketing ops",
        }

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
            self.bot = BotServer(settings, self.clock, ticker=False, process_before_response=True)
            url = await self.bot.start(host="127.0.0.1", port=0)
            self.driver = SlackDriver(self.sandbox, url, secret)
            self.hubspot = HubSpotWebhooks(f"{url}/crm/hubspot", HUBSPOT_SECRET)
            try:
                await self._play()
                self._slack_errors()
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
            f"People: {self.ana.real_name} (AE, New York), {self.chen.real_name} (CSM, "
            f"London), {self.maya.real_name} (manager, San Francisco), {self.mo.real_name} "
            f"(marketing ops, London)."
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

    # --- scenes -------------------------------------------------------------------------
    async def _meet_baton(self) -> None:
        self.scene("Saturday: the manager asks Baton what it can do")
        await self.driver.command(self.maya, "help")
        await self.driver.command(self.maya, "ownr acme")
        await self.driver.open_home(self.maya)
        self.show()
        self.scene(
            "Baton meets the team; introductions wait for 09:00 Monday, in each person's time zone"
        )
        members = [(self.ana.id, Role.AE), (self.chen.id, Role.CSM), (self.maya.id, Role.MANAGER)]
        await introduce(
            self.bot.services, self.bot.services.client, self.workspace.team_id, members
        )
        await self.run_clock(until=datetime(2027, 1, 4, 15, tzinfo=UTC))

    async def _import_book(self) -> None:
        self.scene("Monday, before the first deal: RevOps brings in the book Northwind already has")
        book = Path(self.tmp) / "book.csv"
        book.write_text(BOOK, encoding="utf-8")
        await self.baton_import(book)
        book.write_text(BOOK_FIXED, encoding="utf-8")
        await self.baton_import(book)
        self.note(
            "Both are past their handoff: no packet requests, no kickoff, and the milestones "
            "already behind them (Vandelay's month-5 flag; Soylent's day 120 and day 90) are "
            "skipped. "
            "The next ones come on their day, in the renewal year below."
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
        self.scene("Monday 10:00 New York: the CRM marks Acme Robotics closed-won")
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
        self.scene("The AE does not get to it on Monday; Tuesday 09:00 her time, a reminder")
        await self.run_clock(until=datetime(2027, 1, 5, 16, tzinfo=UTC))

    async def _trust(self) -> None:
        self.scene("Tuesday: people try to take Acme Robotics over, or peek inside")
        zed = self.workspace.add_user("zed", "Zed Okoro", "zed@northwind.test", "Europe/Berlin")
        self.roles[zed.id] = "no role on any account"
        await self.driver.command(zed, "new")
        await self.driver.command(self.ana, "new")
        view = self.workspace.views_of(self.ana.id)[-1]
        reply = await self.driver.submit(
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
        await self.run_clock(until=self.clock() + timedelta(minutes=1))
        self.show()
        await self.driver.channel_unshared(channel, "T0ACME")
        self.note(f"#{channel.name} is unshared again: Baton posts there as before.")

    async def _renewal_soon(self) -> None:
        self.scene(
            "Monday: Initech closes a deal that renews on 10 May; its month 5 and "
            "month 6 have passed, so they are skipped, not sent late"
        )
        reply = await self.webhook(INITECH)
        self.note(f"CRM ← {reply.status} {reply.text}")
        channel = self.workspace.channel_by_name("acct-initech")
        assert channel is not None
        request = self.find(channel, "is due")
        view = await self.click(self.ana, request, channel, "baton_packet_open")
        assert view is not None
        await self.driver.submit(self.ana, view, {**PACKET, "retention_model": "A"})
        view = await self.click(self.mo, request, channel, "baton_marketing_open")
        assert view is not None
        await self.driver.submit(self.mo, view, {"marketing": "Partner referral."})
        self.show()
        self.note(
            "(The Acme Robotics story continues in the next scenes; Initech's day-120 "
            "business review comes on Friday.)"
        )

    async def _packet(self) -> None:
        channel = self.workspace.channel_by_name("acct-acme-robotics")
        assert channel is not None
        request = self.find(channel, "is due")
        self.scene("Tuesday 11:00 New York: the CSM tries to fill the AE's part")
        await self.click(self.chen, request, channel, "baton_packet_open")
        self.scene("The AE opens the packet, types a line, and closes it to finish later")
        view = await self.click(self.ana, request, channel, "baton_packet_open")
        assert view is not None
        await self.driver.close_view(self.ana, view, {"goal": PACKET["goal"]})
        view = await self.click(self.ana, request, channel, "baton_packet_open")
        assert view is not None
        self.note("Her draft is back in the form. She submits it with only the goal:")
        reply = await self.driver.submit(self.ana, view, {})
        errors = json.loads(reply.text)["errors"]
        self.note(
            f"The form stays open with {len(errors)} inline errors, e.g. “{errors['objections']}”"
        )
        await self.driver.submit(
            self.ana,
            view,
            {
                **PACKET,
                "icp_exception": ["yes"],
                "icp_reason": "40 seats where our ICP starts at 150; they need a lot of hand-holding.",
            },
        )
        self.show()
        self.scene("Marketing ops adds what brought the buyer in; the gate opens")
        marketing = self.find(self.workspace.dm_channel(self.mo.id), "Marketing context wanted")
        view = await self.click(
            self.mo, marketing, self.workspace.dm_channel(self.mo.id), "baton_marketing_open"
        )
        assert view is not None
        await self.driver.submit(
            self.mo,
            view,
            {
                "marketing": "Webinar “Renewals on autopilot” (Oct); downloaded the churn "
                "benchmark; 3 visits to pricing."
            },
        )
        self.show()
        self.scene("The CSM acknowledges the packet; the kickoff is held on Wednesday")
        summary = self.find(channel, "Acme Robotics is complete")
        await self.click(self.chen, summary, channel, "baton_packet_ack")
        self.clock.set(datetime(2027, 1, 6, 16, tzinfo=UTC))
        kickoff = self.find(channel, "Next: the joint kickoff")
        await self.click(self.ana, kickoff, channel, "baton_kickoff_held")
        self.show()

    async def _renewal_nudge(self) -> None:
        csm_dm = self.workspace.dm_channel(self.chen.id)
        nudge = self.find(csm_dm, "Business review for Initech is due.")
        self.scene("Friday: the day-120 business review for Initech; the CSM snoozes it 3 days")
        await self.click(self.chen, nudge, csm_dm, "baton_milestone_snooze_3")
        await self.run_clock(until=datetime(2027, 1, 12, 10, tzinfo=UTC))
        self.scene("Tuesday: nudged again; the CSM holds the review and marks it done")
        nudge = [m for m in csm_dm.messages if m.text == "Business review for Initech is due."][-1]
        view = await self.click(self.chen, nudge, csm_dm, "baton_milestone_done")
        assert view is not None
        await self.driver.submit(
            self.chen,
            view,
            {"outcome": "Review held: 2.4x ROI; Initech wants the analytics add-on quote."},
        )
        self.show()

    async def _quiet_ae(self) -> None:
        self.scene("Wednesday: Globex closes too, in HubSpot, and this time the AE goes quiet")
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
        await self.run_clock(until=datetime(2027, 1, 8, 10, tzinfo=UTC))
        await self._renewal_nudge()
        await self.run_clock(until=datetime(2027, 1, 12, 17, 30, tzinfo=UTC))
        self.scene(
            "Tuesday: nudged by her manager, the AE fills Globex's packet and marketing "
            "adds theirs; the reminders stop"
        )
        globex = self.workspace.channel_by_name("acct-globex")
        assert globex is not None
        request = self.find(globex, "is due")
        view = await self.click(self.ana, request, globex, "baton_packet_open")
        assert view is not None
        await self.driver.submit(self.ana, view, {**PACKET, "retention_model": "A"})
        view = await self.click(self.mo, request, globex, "baton_marketing_open")
        assert view is not None
        await self.driver.submit(self.mo, view, {"marketing": "Inbound from the pricing page."})
        await self.run_clock(until=datetime(2027, 1, 12, 23, tzinfo=UTC))

    async def _checkins(self) -> None:
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
            self.scene(
                f"Week {number}: the CSM logs check-in #{number}"
                + (" (the AE is no longer copied)" if number == 5 else "")
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
                await self.driver.command(self.chen, "checkin acme", channel=channel)
                view = self.workspace.views_of(self.chen.id)[-1]
                self.show()
            assert view is not None
            await self.driver.submit(
                self.chen, view, {"summary": summary, "sentiment": sentiment, **extra}
            )
            self.show()
            if extra.get("mismatch"):
                await self._clarify(channel)
            await self.run_clock(until=self.clock() + timedelta(days=7))
        self.scene("Day 30 and after: the CSM is primary, and rates the packet")
        await self.run_clock(until=datetime(2027, 2, 4, 12, tzinfo=UTC))
        ask = next(m for m in csm_dm.messages if m.text.startswith("Rate the handoff packet"))
        view = await self.click(self.chen, ask, csm_dm, "baton_rate_open")
        assert view is not None
        await self.driver.submit(
            self.chen,
            view,
            {"rating": "4", "missing": ["skeptics"], "comment": "Skeptics were not named."},
        )
        self.note("Rating stored: 4/5, “Skeptics” marked missing.")
        self.scene("The manager asks who owns Acme Robotics now that the handoff window is over")
        await self.driver.command(self.maya, "owner acme")
        self.show()

    async def _renewal_year(self) -> None:
        chen_dm = self.workspace.dm_channel(self.chen.id)
        ana_dm = self.workspace.dm_channel(self.ana.id)
        await self.fast_forward(datetime(2027, 4, 8, 12, tzinfo=UTC))
        self.scene("Friday 9 Apr: day 30 for Initech; the CSM records the renewal from the nudge")
        await self.run_clock(until=datetime(2027, 4, 9, 9, tzinfo=UTC))
        nudge = self.find(chen_dm, "Final redline and signature for Initech")
        view = await self.click(self.chen, nudge, chen_dm, "baton_renewed")
        assert view is not None
        await self.driver.submit(self.chen, view, {"new_arr": "36000"})
        self.show()

        await self.fast_forward(datetime(2027, 6, 3, 12, tzinfo=UTC))
        self.scene("Friday 4 Jun: month 5 for Acme Robotics; the CSM flags it red")
        await self.run_clock(until=datetime(2027, 6, 4, 9, tzinfo=UTC))
        nudge = self.find(chen_dm, "Month-5 health flag for Acme Robotics")
        view = await self.click(self.chen, nudge, chen_dm, "baton_health_flag")
        assert view is not None
        await self.driver.submit(
            self.chen,
            view,
            {
                "health": "red",
                "risks": "Priya (champion) is leaving in July; forecast usage fell 40% in May.",
                "expansion": "EMEA CS team (8 seats) once the Salesforce sync is real-time.",
            },
        )
        self.show()
        self.note("The AE and the manager hear of it at 09:00 their own time.")
        await self.run_clock(until=datetime(2027, 6, 4, 16, tzinfo=UTC))
        await self.fast_forward(datetime(2027, 6, 10, 12, tzinfo=UTC))
        self.scene("A week later: the weekly at-risk reminder, to the AE and the CSM")
        await self.run_clock(until=datetime(2027, 6, 11, 15, tzinfo=UTC))

        await self.fast_forward(datetime(2027, 7, 12, 15, tzinfo=UTC))
        self.scene(
            "July: the CSM goes on holiday; the manager arranges cover, and asks again "
            "(months 6–8: the AE and the CSM co-own the renewal)"
        )
        await self.driver.command(
            self.maya, f"cover <@{self.chen.id}|chen> with <@{self.mo.id}|mo> until 2027-07-23"
        )
        await self.driver.command(self.maya, "owner acme")
        await self.driver.command(self.maya, f"owner <@{self.mo.id}|mo>")
        await self.driver.command(self.maya, "week")
        self.show()

        await self.fast_forward(datetime(2027, 9, 5, 12, tzinfo=UTC))
        self.scene(
            "Monday 6 Sep: day 120 for Acme Robotics; the CSM runs the business review "
            "(the AE attends silent) and marks it done"
        )
        await self.run_clock(until=datetime(2027, 9, 6, 9, tzinfo=UTC))
        nudge = self.find(chen_dm, "Business review for Acme Robotics")
        view = await self.click(self.chen, nudge, chen_dm, "baton_milestone_done")
        assert view is not None
        await self.driver.submit(
            self.chen, view, {"outcome": "QBR held with the new champion: ROI 3.1x."}
        )
        self.show()

        await self.fast_forward(datetime(2027, 10, 5, 12, tzinfo=UTC))
        self.scene(
            "Wednesday 6 Oct: day 90 for Acme Robotics. Model B: the AE keeps the commercial "
            "side, so the AE and the CSM are both nudged"
        )
        await self.run_clock(until=datetime(2027, 10, 6, 15, tzinfo=UTC))

        await self.fast_forward(datetime(2027, 12, 2, 12, tzinfo=UTC))
        self.scene(
            "Friday 3 Dec: day 30 for Acme Robotics; the AE records the renewal, and the "
            "account is handed back to the CSM"
        )
        await self.run_clock(until=datetime(2027, 12, 3, 15, tzinfo=UTC))
        nudge = self.find(ana_dm, "Final redline and signature for Acme Robotics")
        view = await self.click(self.ana, nudge, ana_dm, "baton_renewed")
        assert view is not None
        await self.driver.submit(self.ana, view, {"new_arr": "96000"})
        self.show()
        channel = self.workspace.channel_by_name("acct-acme-robotics")
        assert channel is not None
        handback = self.find(channel, "renewed: hand-back to the CSM")
        await self.click(self.chen, handback, channel, "baton_handback_held")
        self.scene("After the renewal and the hand-back, the CSM owns the new cycle; the record")
        await self.driver.command(self.maya, "owner acme")
        await self.driver.command(self.maya, "history acme on 2027-07-20")
        self.show()

    async def _numbers(self) -> None:
        self.scene(
            "The year in numbers: the manager asks `/baton stats 365`, RevOps writes the report"
        )
        await self.driver.command(self.maya, "stats 365")
        self.show()
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

    async def _clarify(self, channel: Any) -> None:
        ae_dm = self.workspace.dm_channel(self.ana.id)
        ask = next(m for m in reversed(ae_dm.messages) if "Please clarify" in m.text)
        view = await self.click(self.ana, ask, ae_dm, "baton_clarify_open")
        assert view is not None
        await self.driver.submit(
            self.ana,
            view,
            {
                "clarification": "Hourly sync was agreed; real-time is on the Q3 roadmap, not "
                "promised."
            },
        )
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

    async def click(
        self, user: User, message: Message, channel: Any, action: str
    ) -> OpenView | None:
        block = next(b for b in reversed(message.blocks or []) if b["type"] == "actions")
        element = next(e for e in block["elements"] if e["action_id"] == action)
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

    def find(self, channel: Any, fragment: str) -> Message:
        return next(m for m in channel.messages if fragment in m.text)

    def scene(self, title: str) -> None:
        self.out("")
        self.out(f"── {title} " + "─" * max(0, 70 - len(title)))

    def note(self, text: str) -> None:
        self.out(f"  » {text}")

    async def run_clock(self, until: datetime) -> None:
        """Advance simulated time beat by beat (every TICK), as `baton run`'s scheduler
        would, and tick at each beat by which anything is due. The beats before it are
        skipped: their ticks would find nothing to do (`bot.outbox.upcoming`)."""
        while self.clock() < until:
            due = await next_work(self.bot.services)
            ahead = min(until, due or until) - self.clock()
            self.clock.advance(TICK * max(1, -(-ahead // TICK)))  # the first beat not before
            await run_tick(self.bot.services)
            self.show()

    async def fast_forward(self, until: datetime) -> None:
        """The quiet weeks between scenes, without showing each message. The clock jumps
        straight to the next moment a tick has work (`next_work`: a tick in between would
        find nothing to do), so every message still goes out on time."""
        start = self.clock()
        meanwhile = 0
        while self.clock() < until:
            due = await next_work(self.bot.services)
            step = min(until, due or until) - self.clock()
            self.clock.advance(max(step, timedelta(seconds=1)))
            await run_tick(self.bot.services)
            meanwhile += len(self.watcher.new())
        self.out("")
        self.out(
            f"   … {start:%d %b} → {until:%d %b %Y}: {meanwhile} more "
            f"message{'' if meanwhile == 1 else 's'} (check-in "
            "prompts, other accounts' milestones…), not shown"
        )

    def who(self, user_id: str) -> str:
        user = self.workspace.users[user_id]
        role = self.roles.get(user_id)
        return f"{user.real_name} ({role})" if role else user.real_name

    def show(self) -> None:
        """Personal things in the person's own time; channel posts once, with their readers."""
        for seen in self.watcher.new():
            if seen.where.startswith("#"):
                readers = ", ".join(self.who(u) for u in seen.user_ids)
                header = f"[{seen.at:%a %d %b %Y %H:%M} UTC] {seen.where} · seen by {readers}"
            else:
                (user_id,) = seen.user_ids
                tz = self.workspace.users[user_id].tz
                local = seen.at.astimezone(ZoneInfo(tz))
                stamp = local.strftime("%a %d %b %Y %H:%M") + f" {_city(tz)}"
                header = f"[{stamp}] {self.who(user_id)} · {seen.where}"
            self.out(header)
            for line in seen.text.splitlines():
                self.out(f"    {line}")


def _city(tz: str) -> str:
    return tz.rsplit("/", 1)[-1].replace("_", " ")


def main() -> int:
    asyncio.run(Demo().run())
    return 0
