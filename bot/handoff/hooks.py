"""What the handoff contributes to the tick: finishing interrupted set-up, looking again for
people not found in Slack, the gate's and the kickoff's reminders, and when they are moot;
the customer told their contacts when the retention model switches."""

from __future__ import annotations

from bot.handoff import contacts
from bot.handoff.planner import look_for_people, plan_gate, plan_kickoff
from bot.handoff.relevance import GATE_KINDS, KICKOFF_KINDS, gate_moot, kickoff_moot
from bot.handoff.setup_queue import drain_setup
from bot.platform.hooks import Hooks
from bot.platform.outlook import Outlook
from bot.platform.services import Services


def _setup_due(_services: Services, outlook: Outlook) -> bool:
    return outlook.due(outlook.earliest.setup)


def register(hooks: Hooks) -> None:
    hooks.stage("before_planning", "finishing set-up", drain_setup, when=_setup_due, owes=True)
    hooks.prepare.append(look_for_people)
    hooks.planners += [plan_gate, plan_kickoff]
    hooks.on_kinds(GATE_KINDS, gate_moot)
    hooks.on_kinds(KICKOFF_KINDS, kickoff_moot)
    hooks.account_changed.append(contacts.contacts_switched)
    hooks.compose[contacts.KIND] = contacts.compose
