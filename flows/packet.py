"""The handoff packet: what the AE (and marketing) must tell the CSM before the deal counts
as handed off. Field definitions, completeness, and what changed between versions."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from flows.retention import RetentionModel


class Part(StrEnum):
    AE = "ae"
    MARKETING = "marketing"


class Kind(StrEnum):
    SHORT = "short"
    LONG = "long"
    FLAG = "flag"
    CHOICE = "choice"


@dataclass(frozen=True)
class PacketField:
    key: str
    label: str
    hint: str
    kind: Kind = Kind.LONG
    part: Part = Part.AE
    required: bool = True
    max_length: int = 3000
    placeholder: str = ""


FIELDS: tuple[PacketField, ...] = (
    PacketField(
        "goal",
        "Buyer's stated goal, in their words",
        "Quote them from discovery. Their outcome, not our features.",
        placeholder="“We need renewals forecastable a quarter out.”",
    ),
    PacketField(
        "objections",
        "Hardest objections, and how each was answered",
        "The CSM must answer them the same way.",
    ),
    PacketField(
        "competitors",
        "Alternatives they evaluated",
        "Who they nearly chose, and why they didn't. This is the renewal risk.",
    ),
    PacketField(
        "success_metric",
        "Success metric the buyer named",
        "Measurable. It becomes the first QBR agenda and the time-to-value baseline.",
        kind=Kind.SHORT,
        max_length=500,
    ),
    PacketField(
        "champion",
        "Champion",
        "Name, role, and how engaged they are.",
        kind=Kind.SHORT,
        max_length=500,
    ),
    PacketField(
        "economic_buyer",
        "Economic buyer",
        "Who signs, and what they care about.",
        kind=Kind.SHORT,
        max_length=500,
    ),
    PacketField("daily_users", "Daily users", "Teams or people who will live in the product."),
    PacketField(
        "skeptics",
        "Skeptics",
        "Who was against this deal, and why. If nobody was, write “none identified”.",
        placeholder="“Their IT lead, who wanted to build it in-house.” or “none identified”",
    ),
    PacketField(
        "decision_criteria",
        "Real decision criteria",
        "What actually decided it, not the RFP list.",
        required=False,
    ),
    PacketField(
        "internal_blockers",
        "Known internal blockers",
        "Legal, IT, budget, politics.",
        required=False,
    ),
    PacketField(
        "executive_sponsor",
        "Executive sponsor",
        "On their side.",
        kind=Kind.SHORT,
        required=False,
        max_length=500,
    ),
    PacketField(
        "timeline_pressure", "Timeline pressure", "Dates they must hit, and why.", required=False
    ),
    PacketField(
        "month6_risks",
        "2–3 things that would make them unhappy in month 6",
        "Be specific; the CSM plans around these.",
    ),
    PacketField(
        "icp_exception",
        "Outside our ideal customer profile",
        "Tick if this deal closed outside the ICP: the CSM plans extra "
        "expectation-setting in the first 30 days.",
        kind=Kind.FLAG,
        required=False,
    ),
    PacketField(
        "icp_reason",
        "Why it is an ICP exception",
        "Required when the box is ticked.",
        required=False,
    ),
    PacketField(
        "retention_model",
        "Retention model",
        "Who owns the renewal after handoff.",
        kind=Kind.CHOICE,
    ),
    PacketField(
        "marketing",
        "Marketing source and content engagement",
        "Campaigns, webinars and content this buyer engaged with.",
        part=Part.MARKETING,
    ),
)
BY_KEY = {f.key: f for f in FIELDS}
# What an empty required field is told, where "fill this in" is not the whole story.
EMPTY = {
    "skeptics": "Name the skeptics, or write “none identified” if nobody was against the deal.",
}
MODEL_CHOICES = tuple((m.value, m.label) for m in RetentionModel)


def fields_of(part: Part) -> tuple[PacketField, ...]:
    return tuple(f for f in FIELDS if f.part == part)


def _filled(value: Any) -> bool:
    return value is not None and value is not False and str(value).strip() != ""


def problems(answers: dict[str, Any], part: Part) -> dict[str, str]:
    """Field key → what is wrong, for one part of the packet."""
    found: dict[str, str] = {}
    for item in fields_of(part):
        value = answers.get(item.key)
        if item.required and not _filled(value):
            found[item.key] = EMPTY.get(item.key, "Please fill this in: the CSM needs it.")
        elif _filled(value) and len(str(value)) > item.max_length:
            found[item.key] = f"Please keep this under {item.max_length} characters."
    if part == Part.AE:
        if answers.get("icp_exception") and not _filled(answers.get("icp_reason")):
            found["icp_reason"] = "Say why the deal is outside the ICP, so the CSM can plan for it."
        model = answers.get("retention_model")
        if _filled(model) and (
            not isinstance(model, str) or model not in {m.value for m in RetentionModel}
        ):
            found["retention_model"] = "Pick one of the four retention models."
    return found


def part_complete(answers: dict[str, Any], part: Part) -> bool:
    return not problems(answers, part)


def is_complete(answers: dict[str, Any], marketing_required: bool) -> bool:
    if not part_complete(answers, Part.AE):
        return False
    return part_complete(answers, Part.MARKETING) or not marketing_required


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field key → [old, new] for every field whose value differs."""
    keys = sorted(set(before) | set(after))
    return {
        k: [before.get(k), after.get(k)]
        for k in keys
        if (before.get(k) or None) != (after.get(k) or None)
    }
