"""Nothing the CRM or a person wrote is read by Slack as markup.

Every public function in `bot/blocks/` is called here with hostile values (an account
whose every string is markup, hostile packet answers, check-ins, notes) or is listed as
deliberately skipped; a new builder fails the first test until it is one or the other.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from bot.accounts.contacts import team_of
from bot.checkins.blocks import customer_intro
from bot.ownership.home import Dashboard, TeamSummary
from bot.ownership.standing import OverdueItem, Standing
from bot.platform import kit
from bot.platform.commands import Commands, Subcommand
from bot.renewal.blocks import late_label, nudge_blocks
from bot.runtime.features import install_commands
from flows.contacts import customer_contacts
from flows.ownership import Facts, ownership
from flows.packet import FIELDS, Kind, Part
from flows.retention import RetentionModel
from storage.models import Account, Checkin, Coverage, HealthFlag, Milestone, RenewalOutcome
from tests.helpers import HOSTILE, LOOSE_AMPERSAND, markup_problems, read

EMAIL = "<!here>@x.test"
NOT_AN_ID = "<!everyone>"  # where Slack would put a user or channel id
BAD_LINK = "https://evil.test/x|<!channel>"
CSM, MANAGER, BACKUP = "U0CSM0001", "U0MGR0001", "U0BAK0001"
TODAY = date(2027, 1, 4)
NOW = datetime(2027, 1, 4, 15, tzinfo=UTC)

# Kit primitives take text their callers already formatted (it is checked through those
# callers); parsers read what Slack sends and build nothing.
SKIPPED = {
    "kit.plain": "primitive: renders the plain text it is given",
    "kit.header": "primitive: renders the plain text it is given",
    "kit.section": "primitive: renders the mrkdwn it is given",
    "kit.context": "primitive: renders the mrkdwn it is given",
    "kit.divider": "no text",
    "kit.metadata": "a parser: reads a view's private_metadata",
    "kit.element_state": "a parser: reads a modal's state",
    "kit.chosen": "a parser: reads a modal's state",
    "kit.ticked": "a parser: reads a modal's state",
    "kit.button": "primitive: renders the plain text it is given",
    "kit.actions": "primitive: wraps elements",
    "kit.text_input": "an input element: its initial value is what the person typed",
    "kit.input_block": "primitive: renders the plain text it is given",
    "kit.modal": "primitive: renders the plain text it is given",
    "kit.submitted": "reads a submission",
    "kit.clip": "shortens text (tested below)",
    "kit.unesc": "reads Slack's text (tested below)",
    "kit.slash_text": "reads Slack's text (tested below)",
    "kit.prompt": "primitive: renders the mrkdwn its callers give it",
    "handoff.read_values": "reads a submission",
    "checkins.read_checkin": "reads a submission",
}


@dataclass(frozen=True)
class Call:
    args: tuple[Any, ...]
    shows: str | None = HOSTILE  # the hostile value the output must still show, escaped


def hostile_account() -> Account:
    return Account(
        id=7,
        team_id="T1",
        crm_id=HOSTILE,
        name=HOSTILE,
        arr=Decimal("120000"),
        currency=HOSTILE,
        contract_start=date(2026, 6, 1),
        renewal_date=date(2027, 6, 1),
        segment=HOSTILE,
        crm_url=HOSTILE,
        ae_email=EMAIL,
        csm_email=EMAIL,
        am_email=EMAIL,
        ops_email=EMAIL,  # not found in Slack either
        manager_email=EMAIL,
        champion_email=EMAIL,
        ae_user_id=None,  # not found in Slack: shown by email
        csm_user_id=CSM,
        am_user_id=NOT_AN_ID,
        manager_user_id=MANAGER,
        channel_id=NOT_AN_ID,
        channel_name=HOSTILE,
        retention_model="C",
        closed_at=datetime(2026, 6, 1, 15, tzinfo=UTC),
    )


def answers() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in FIELDS:
        values[item.key] = {Kind.FLAG: True, Kind.CHOICE: "C"}.get(item.kind, HOSTILE)
    return values


class Hostile:
    """Everything a builder is given, each string in it markup."""

    def __init__(self) -> None:
        self.account = hostile_account()
        # Whom the customer calls for what, the AE (shown by email) owning the renewal.
        self.contacts = customer_contacts(
            RetentionModel.AE_RETAINS, self.account.arr, Decimal(75000), team_of(self.account)
        )
        self.intro = customer_intro(self.contacts, HOSTILE)[0]
        self.checkin = Checkin(
            id=3,
            team_id="T1",
            account_id=7,
            number=2,
            submission_key="k",
            logged_by=CSM,
            checkin_date=TODAY,
            summary=HOSTILE,
            sentiment="concerned",
            mismatch=True,
            promised=HOSTILE,
            next_steps=HOSTILE,
            first_value=True,
            edited_by=NOT_AN_ID,
            created_at=NOW,
            updated_at=NOW,
        )
        self.flag = HealthFlag(
            team_id="T1",
            account_id=7,
            renewal_date=date(2027, 6, 1),
            health="red",
            risks=HOSTILE,
            expansion=HOSTILE,
            flagged_by=NOT_AN_ID,
            flagged_at=NOW,
        )
        # Titles, activities and goals come from the team's playbook file, not from users.
        self.milestone = Milestone(
            id=11,
            team_id="T1",
            account_id=7,
            renewal_date=date(2027, 6, 1),
            key="day-30",
            title="Day-30 close",
            due_date=date(2027, 5, 3),
            owners=["ae", "csm", "am", "ops"],
            created_at=NOW,
        )
        self.outcome = RenewalOutcome(
            team_id="T1",
            account_id=7,
            renewal_date=date(2027, 6, 1),
            outcome="churned",
            new_renewal_date=date(2028, 6, 1),
            new_arr=Decimal("130000"),
            reason=HOSTILE,
            note=HOSTILE,
            effective_date=TODAY,
            recorded_by=CSM,
            recorded_at=NOW,
        )
        self.cover = Coverage(
            team_id="T1",
            user_id=CSM,
            backup_user_id=BACKUP,
            starts_at=NOW,
            ends_at=NOW,
            until=date(2027, 1, 15),
            created_by=CSM,
            created_at=NOW,
        )
        self.windows = {CSM: self.cover}
        facts = Facts(
            closed_on=date(2026, 6, 1),
            renewal_date=date(2027, 6, 1),
            model=RetentionModel.AM_BRIDGE,
            commercial="am",
            packet_complete=True,
        )
        late = OverdueItem("Business-case prep", date(2026, 12, 1), ("ae", "csm", "am", "ops"))
        self.standing = Standing(
            self.account, ownership(facts, TODAY), self.milestone, [late], self.flag
        )
        self.late = late
        self.board = Dashboard(
            user_id=CSM,
            mine=[self.standing],
            total=1,
            covering=[self.cover],
            windows=self.windows,
            packets_owed=[self.standing],
            team=TeamSummary(HOSTILE, 1, 1, 1, 1, 1),
        )


async def _never(call: object) -> None:
    raise AssertionError("help only renders the table")


def calls(h: Hostile) -> dict[str, list[Call]]:
    a, c, m, f = h.account, h.checkin, h.milestone, h.flag
    every_subcommand = install_commands(Commands())
    hostile_subcommand = Subcommand("owner", HOSTILE, "Who owns it.", "/baton owner", "", _never, 1)
    nudge = (  # labelled_late rewrites a real nudge
        "Day-30 close is due.",
        nudge_blocks(a, m, "Confirm the renewal.", "A signed renewal.", ["am"]),
        late_label(m.due_date, [m]),
    )
    return {
        "kit.esc": [Call((HOSTILE,))],
        "kit.user_mention": [Call((NOT_AN_ID,), NOT_AN_ID), Call((CSM,), None)],
        "kit.channel_mention": [Call((NOT_AN_ID,), NOT_AN_ID)],
        "kit.link": [Call((BAD_LINK, HOSTILE))],
        "kit.who": [Call((None, EMAIL), EMAIL), Call((NOT_AN_ID,), NOT_AN_ID)],
        "kit.money": [Call((a,))],
        "handoff.topic": [Call((a,))],
        "handoff.welcome_blocks": [Call((a, TODAY))],
        "handoff.packet_request_blocks": [Call((a, True))],
        "handoff.packet_dm_blocks": [Call((a,))],
        "handoff.marketing_request_blocks": [Call((a,))],
        "handoff.reminder_blocks": [Call((a, 2))],
        "handoff.escalation_text": [Call((a,))],
        "handoff.gap_text": [Call((a, "am", EMAIL), EMAIL)],
        "handoff.found_text": [Call((a, "am", CSM))],
        "handoff.change_text": [
            Call((a, {"ae_email": (EMAIL, HOSTILE), "renewal_date": (TODAY, TODAY)}))
        ],
        "handoff.packet_modal": [
            Call((a, answers(), Part.AE, RetentionModel.AM_BRIDGE, True)),
            Call((a, answers(), Part.MARKETING, RetentionModel.AM_BRIDGE, False)),
        ],
        "handoff.summary_blocks": [Call((a, answers(), "2 days 3 h"))],
        "handoff.icp_headsup_text": [Call((a, HOSTILE))],
        "handoff.kickoff_blocks": [Call((a,))],
        "handoff.kickoff_reminder_text": [Call((a,))],
        "handoff.customer_welcome_text": [Call((a,))],
        "handoff.customer_kickoff_text": [Call((a,))],
        "handoff.new_account_modal": [Call(("At or above 75,000 the AE keeps it.",), None)],
        "help.help_text": [Call((every_subcommand,), None)],
        "help.help_blocks": [Call((every_subcommand,), None), Call((every_subcommand, "Hi"), None)],
        "help.usage_line": [Call((hostile_subcommand,))],
        "help.did_you_mean": [Call((HOSTILE, hostile_subcommand))],
        "help.unknown_preface": [Call((HOSTILE,), HOSTILE[:40])],
        "home.home_view": [Call((HOSTILE,)), Call((HOSTILE, h.board, 0, TODAY))],
        "checkins.checkin_prompt_blocks": [Call((a, 2))],
        "checkins.checkin_modal": [Call((a, HOSTILE, {"summary": HOSTILE}, TODAY, 3))],
        "checkins.checkin_blocks": [Call((a, c))],
        "checkins.cc_text": [Call((a, c, BAD_LINK))],
        "checkins.clarify_blocks": [Call((a, c, BAD_LINK))],
        "checkins.clarify_modal": [Call((a, c))],
        "checkins.mismatch_escalation_text": [Call((a, c))],
        "checkins.primary_blocks": [
            Call((a, h.contacts, h.intro)),
            Call((a.model_copy(update={"ext_channel_id": "C0EXT0001"}), h.contacts, h.intro)),
        ],
        "checkins.customer_intro": [Call((h.contacts, HOSTILE)), Call((h.contacts, None), EMAIL)],
        "checkins.rating_request_blocks": [Call((a,))],
        "checkins.rating_modal": [Call((a,))],
        "checkins.rating_alert_text": [Call((2.5, 3, [(HOSTILE, 2), ("goal", 1)]))],
        "ownership.day": [Call((TODAY,), None)],
        "ownership.mention": [Call((None, EMAIL), EMAIL), Call((NOT_AN_ID,), NOT_AN_ID)],
        "ownership.covered": [Call((CSM, h.windows), None), Call((NOT_AN_ID, {}), NOT_AN_ID)],
        "ownership.role_holders": [Call((a, ["ae", "csm", "am", "ops"], h.windows), NOT_AN_ID)],
        "ownership.late_line": [Call((h.late, a, TODAY, h.windows), NOT_AN_ID)],
        "ownership.account_title": [Call((h.standing,))],
        "ownership.ops_line": [
            Call((h.standing,), EMAIL),
            Call((replace(h.standing, ops=(CSM, NOT_AN_ID)),), NOT_AN_ID),
        ],
        "ownership.owner_answer": [Call((h.standing, TODAY, h.windows))],
        "ownership.person_answer": [
            Call((CSM, [h.standing], [h.cover], h.windows, TODAY)),
            Call((NOT_AN_ID, [], [], {}, TODAY), NOT_AN_ID),
        ],
        "ownership.for_whom": [Call((h.standing, h.standing.owns.part_of("am"), CSM), NOT_AN_ID)],
        "ownership.titled": [Call((HOSTILE, [(HOSTILE, [], 0)], ""))],
        "renewal.owner_names": [
            Call((a, ["ae", "csm", "am", "ops"]), EMAIL),
            Call((a, ["ops"], NOT_AN_ID), NOT_AN_ID),
        ],
        "renewal.no_ops_line": [Call((a, m, None))],
        "renewal.nudge_blocks": [Call((a, m, "Confirm the renewal.", "A signed renewal.", ["am"]))],
        "renewal.done_modal": [Call((a, m)), Call((a, m, True))],
        "renewal.checklist_modal": [Call((a, m, [HOSTILE, "Usage metrics"], "ae"))],
        "renewal.handed_over_blocks": [Call((a, m, NOT_AN_ID, HOSTILE))],
        "renewal.ask_more_modal": [Call((a, m))],
        "renewal.ask_more_text": [Call((a, m, NOT_AN_ID, HOSTILE))],
        "renewal.done_text": [Call((a, m, NOT_AN_ID, HOSTILE))],
        "renewal.help_text": [Call((a, m, CSM, [MANAGER, NOT_AN_ID]))],
        "renewal.escalation_text": [Call((a, m))],
        "renewal.channel_note": [Call((a, m), EMAIL)],
        "renewal.late_label": [Call((m.due_date, [m]), None)],
        "renewal.labelled_late": [Call(nudge)],
        "renewal.flag_modal": [Call((a, 11, f))],
        "renewal.flag_blocks": [Call((a, f))],
        "renewal.business_case_task": [Call((a, f, TODAY))],
        "renewal.red_flag_text": [Call((a, f, TODAY))],
        "renewal.at_risk_text": [Call((a, f))],
        "renewal.renewed_modal": [Call((a, TODAY))],
        "renewal.churned_modal": [Call((a, TODAY))],
        "renewal.handback_blocks": [Call((a, h.outcome, "am"))],
        "renewal.churn_text": [Call((a, h.outcome, NOT_AN_ID))],
        "renewal.not_yet_modal": [Call((a, m))],
        "renewal.signed_text": [Call((a, NOT_AN_ID))],
        "renewal.not_yet_text": [Call((a, CSM, HOSTILE, TODAY))],
    }


BUILDER_MODULES = {
    "kit": "bot.platform.kit",
    "help": "bot.platform.help",
    "handoff": "bot.handoff.blocks",
    "checkins": "bot.checkins.blocks",
    "renewal": "bot.renewal.blocks",
    "ownership": "bot.ownership.blocks",
    "home": "bot.ownership.home_blocks",
}


def builders() -> dict[str, Callable[..., Any]]:
    """Every public function defined in a Block Kit module, as `module.name` (the module
    named by its feature: `handoff.who` for bot/handoff/blocks.py)."""
    found = {}
    for short, path in BUILDER_MODULES.items():
        module = importlib.import_module(path)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and not name.startswith("_"):
                found[f"{short}.{name}"] = fn
    return found


# --- the tests ----------------------------------------------------------------------------
def test_every_builder_is_walked_or_deliberately_skipped() -> None:
    listed = set(calls(Hostile())) | set(SKIPPED)
    found = set(builders())
    assert not set(calls(Hostile())) & set(SKIPPED)
    assert found - listed == set(), "add these to calls() or SKIPPED (with a reason)"
    assert listed - found == set(), "these are listed but no longer exist"


@pytest.mark.parametrize("name", sorted(calls(Hostile())))
def test_no_builder_lets_a_value_become_markup(name: str) -> None:
    build = builders()[name]
    for call in calls(Hostile())[name]:
        mrkdwn, plain = read(build(*call.args))
        assert mrkdwn or plain, f"{name} returned no text"
        for text in mrkdwn:
            assert markup_problems(text) == [], f"{name}: {text!r}"
        for text in plain:  # Slack shows plain_text as it is: entities there would show
            assert not re.search(r"&(amp|lt|gt);", text), f"{name} escaped plain text: {text!r}"
        if call.shows is not None:
            visible = any(kit.esc(call.shows) in t for t in mrkdwn) or any(
                call.shows in t for t in plain
            )
            assert visible, f"{name} lost the value {call.shows!r}: {mrkdwn} {plain}"


def test_the_walk_catches_a_raw_value() -> None:
    """The checks themselves: a builder that forgot `esc` would be caught."""
    assert markup_problems(f"*{HOSTILE}* for <@{CSM}>") != []
    assert markup_problems(f"*{kit.esc(HOSTILE)}* for <@{CSM}> in <#C0ACCT01>") == []
    assert markup_problems("AT&T") == ["an unescaped `&`"]


# --- the helpers ------------------------------------------------------------------------
def test_esc_replaces_exactly_slacks_three_control_characters() -> None:
    assert kit.esc("a & b < c > d \"e\" 'f' *g* _h_") == "a &amp; b &lt; c &gt; d \"e\" 'f' *g* _h_"
    assert kit.esc("&lt;") == "&amp;lt;"  # typed entity text stays visible as typed
    assert kit.unesc(kit.esc("&lt; & <b>")) == "&lt; & <b>"


def test_slash_text_unescapes_around_slacks_own_tokens() -> None:
    raw = "owner AT&amp;T &lt;b&gt; &amp;lt; <@U0123ABC|ana> <#C0123ABC|acct-a&amp;b>"
    assert kit.slash_text(raw) == "owner AT&T <b> &lt; <@U0123ABC|ana> <#C0123ABC|acct-a&amp;b>"


def test_clip_never_cuts_an_entity_in_half() -> None:
    text = kit.esc("ab<<<<<<")  # ab&lt;&lt;…
    for limit in range(3, len(text)):
        clipped = kit.clip(text, limit)
        assert len(clipped) <= limit
        assert LOOSE_AMPERSAND.search(clipped) is None, clipped
    assert kit.clip("R&D team here", 6) == "R&D t…"  # a plain `&` is not an entity


def test_links_are_made_only_to_plain_web_addresses() -> None:
    permalink = "https://sandbox.slack.test/archives/C1/p1?thread_ts=1&cid=C1"
    assert kit.link(permalink, "check-in #2") == (
        "<https://sandbox.slack.test/archives/C1/p1?thread_ts=1&amp;cid=C1|check-in #2>"
    )
    for bad in (BAD_LINK, "javascript:alert(1)", "https://a.test/x y", "mailto:x@y.test"):
        assert not kit.link(bad, "label").startswith("<"), bad
