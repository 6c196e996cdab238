"""What an owed message is (its kind) and what it is about (its subject), as the outbox
stores them: the kind picks the feature rules that apply when it is sent, the subject
columns say which milestone round, check-in or person it concerns. Neither is ever read
back out of a dedupe key: keys are only the idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MessageKind(StrEnum):
    MESSAGE = "message"  # said once (an answer, a notice): no rule makes it moot
    GATE_REMINDER = "gate_reminder"  # the AE's reminder that the handoff packet is missing
    GATE_ESCALATION = "gate_escalation"  # the manager's: the packet is still missing
    KICKOFF_REMINDER = "kickoff_reminder"  # AE and CSM: the kickoff is not logged yet
    CHECKIN_PROMPT = "checkin_prompt"  # the CSM's weekly check-in prompt
    MISMATCH_ESCALATION = "mismatch_escalation"  # a check-in's expectation mismatch, unanswered
    CUSTOMER = "customer"  # to the customer, in the shared channel (never held as internal)
    # Also to the customer, written when sent: the day-30 introduction, and the note of a
    # model switch (both say whom to call for what).
    CUSTOMER_INTRO = "customer_intro"
    CUSTOMER_CONTACTS = "customer_contacts"
    DAY30 = "day30"  # the account channel: the CSM is now the primary owner
    RATING_REQUEST = "rating_request"  # the CSM is asked to rate the handoff packet
    MILESTONE_NUDGE = "milestone_nudge"  # a renewal milestone is due (owners, the channel)
    MILESTONE_ESCALATION = "milestone_escalation"  # nobody acknowledged a milestone's nudge
    AT_RISK_REMINDER = "at_risk_reminder"  # weekly to AE and CSM while the account is red
    COVERAGE = "coverage"  # to the person away (or their backup) about their cover: not rerouted
    MANAGER_DIGEST = "manager_digest"  # a manager's Monday digest, written when it is sent


class SubjectType(StrEnum):
    ACCOUNT = "account"
    CHECKIN = "checkin"
    MILESTONE = "milestone"  # with the milestone's id and the round of nudges it belongs to
    PERSON = "person"  # a Slack user (a manager's digest, someone's cover)


@dataclass(frozen=True)
class Subject:
    """What a message is about, as the outbox columns hold it."""

    type: SubjectType
    id: str
    milestone_id: int | None = None
    round: int | None = None

    @classmethod
    def account(cls, account_id: int) -> Subject:
        return cls(SubjectType.ACCOUNT, str(account_id))

    @classmethod
    def checkin(cls, checkin_id: int) -> Subject:
        return cls(SubjectType.CHECKIN, str(checkin_id))

    @classmethod
    def milestone(cls, milestone_id: int, round_: int | None = None) -> Subject:
        """A milestone; with a round, one round of its nudges (a snooze starts the next)."""
        return cls(SubjectType.MILESTONE, str(milestone_id), milestone_id, round_)

    @classmethod
    def person(cls, user_id: str) -> Subject:
        return cls(SubjectType.PERSON, user_id)
