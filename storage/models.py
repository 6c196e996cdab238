"""SQLModel tables. Every row is scoped by the Slack team id.

The schema itself is defined by the Alembic migrations in `storage/migrations`;
a test proves these models and the migrations agree.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Index,
    Numeric,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from storage.kinds import MessageKind, SubjectType
from storage.types import UTCDateTime, name_key, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"  # owed, not yet attempted (or retried after a 429)
    SENDING = "sending"  # claimed by one worker; Slack may or may not have it
    SENT = "sent"
    UNKNOWN = "unknown"  # the call timed out or Slack answered 5xx: reconcile before resending
    FAILED = "failed"  # Slack refused it for good (e.g. channel_not_found)
    HELD = "held"  # its channel is archived or Baton was removed: owed again once fixed
    CANCELLED = "cancelled"


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    team_id: str = Field(primary_key=True, max_length=32)
    team_name: str = Field(default="", max_length=255)
    bot_user_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # Slack refused the token (revoked, inactive): delivery waits, nothing is marked failed.
    paused_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    paused_error: str | None = Field(default=None, max_length=64)
    pause_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Person(SQLModel, table=True):
    """What Baton knows of a Slack user: enough to address them at a sane local hour."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("team_id", "user_id", name="uq_people_team_user"),
        Index("ix_people_team_email_ci", "team_id", text("lower(email)")),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    user_id: str = Field(max_length=32)
    email: str | None = Field(default=None, max_length=320, index=True)
    real_name: str = Field(default="", max_length=255)
    tz: str | None = Field(default=None, max_length=64)
    refreshed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # Slack: deleted
    # A guest, or someone from another organisation (Slack Connect): Baton serves them nothing.
    outsider: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )


class OutboxMessage(SQLModel, table=True):
    """A message Baton owes someone. The database, not the scheduler, is the memory."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("team_id", "dedupe_key", name="uq_outbox_team_dedupe"),
        Index(
            "ix_outbox_pending_due",
            "due_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        # A claim checks that nothing owed earlier to the same channel is left behind.
        Index(
            "ix_outbox_owed_channel",
            "team_id",
            "channel",
            "due_at",
            sqlite_where=text("status IN ('pending', 'sending')"),
            postgresql_where=text("status IN ('pending', 'sending')"),
        ),
        # Reconciling finds the messages whose fate at Slack is unknown (storage.outbox).
        Index(
            "ix_outbox_uncertain",
            "id",
            sqlite_where=text("status IN ('unknown', 'sending')"),
            postgresql_where=text("status IN ('unknown', 'sending')"),
        ),
        # Held messages, by channel (storage.outbox.held_due, every tick).
        Index(
            "ix_outbox_held",
            "team_id",
            "channel",
            sqlite_where=text("status = 'held'"),
            postgresql_where=text("status = 'held'"),
        ),
        # Catch-up moves a late round's escalation with its nudge: found by these columns.
        Index("ix_outbox_milestone", "team_id", "milestone_id", "round"),
        CheckConstraint(
            f"subject_type IN ({', '.join(repr(str(t)) for t in SubjectType)})",
            name="ck_outbox_subject_type",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    dedupe_key: str = Field(max_length=255)  # the idempotency key: never parsed
    kind: str = Field(default=MessageKind.MESSAGE, max_length=32)  # a MessageKind
    account_id: int | None = Field(default=None, index=True)
    # What the message is about (storage.kinds.Subject); milestone messages add the
    # milestone and the round of nudges they belong to.
    subject_type: str | None = Field(default=None, max_length=16)  # a SubjectType
    subject_id: str | None = Field(default=None, max_length=64)
    milestone_id: int | None = Field(default=None)
    round: int | None = Field(default=None)
    channel: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    blocks: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    thread_ts: str | None = Field(default=None, max_length=32)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # skip if later
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    claim_token: str | None = Field(default=None, max_length=64)
    # When the claim under which Slack may have the message was made (reconciling keeps it).
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # An uncertain row is not read back before this (a failed read, a rate limit, a lease).
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=255)
    sent_channel: str | None = Field(default=None, max_length=32)
    sent_ts: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Where `due_at` came from, for messages owed at a person's local hour.
    local_date: date | None = Field(default=None)
    local_time: str | None = Field(default=None, max_length=5)
    local_tz: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AccountStatus(StrEnum):
    HANDOFF_PENDING = "handoff_pending"  # the packet gate is closed
    HANDED_OFF = "handed_off"
    CHURNED = "churned"


class Account(SQLModel, table=True):
    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("team_id", "crm_id", name="uq_accounts_team_crm"),
        # The tick looks for unfinished set-up every time: this keeps that O(unfinished).
        Index(
            "ix_accounts_unprovisioned",
            "id",
            sqlite_where=text("provisioned_at IS NULL"),
            postgresql_where=text("provisioned_at IS NULL"),
        ),
        # `/baton owner`, the App Home and the manager views answer from these.
        Index("ix_accounts_team_ae", "team_id", "ae_user_id"),
        Index("ix_accounts_team_csm", "team_id", "csm_user_id"),
        Index("ix_accounts_team_am", "team_id", "am_user_id"),
        Index(
            "ix_accounts_setup_due",
            "setup_due_at",
            sqlite_where=text("setup_due_at IS NOT NULL"),
            postgresql_where=text("setup_due_at IS NOT NULL"),
        ),
        Index("ix_accounts_team_manager", "team_id", "manager_user_id"),
        # Each workspace's managers of live accounts, one index step each (the digests).
        Index(
            "ix_accounts_live_manager",
            "team_id",
            "manager_user_id",
            sqlite_where=text("manager_user_id IS NOT NULL AND status <> 'churned'"),
            postgresql_where=text("manager_user_id IS NOT NULL AND status <> 'churned'"),
        ),
        Index("ix_accounts_team_renewal", "team_id", "renewal_date"),
        Index("ix_accounts_team_name_ci", "team_id", text("lower(name)")),
        Index("ix_accounts_team_crm_ci", "team_id", text("lower(crm_id)")),
        Index("ix_accounts_team_channel_ci", "team_id", text("lower(channel_name)")),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    crm_id: str = Field(max_length=64)
    name: str = Field(max_length=200)
    arr: Decimal = Field(default=Decimal(0), sa_column=Column(Numeric(14, 2), nullable=False))
    currency: str = Field(default="USD", max_length=3)
    contract_start: date
    renewal_date: date
    term_months: int = Field(default=12)
    segment: str | None = Field(default=None, max_length=64)
    crm_url: str | None = Field(default=None, max_length=2000)
    ae_email: str = Field(max_length=320)
    csm_email: str = Field(max_length=320)
    am_email: str | None = Field(default=None, max_length=320)
    ops_email: str | None = Field(default=None, max_length=320)
    manager_email: str | None = Field(default=None, max_length=320)
    champion_email: str | None = Field(default=None, max_length=320)
    ae_user_id: str | None = Field(default=None, max_length=32)
    csm_user_id: str | None = Field(default=None, max_length=32)
    am_user_id: str | None = Field(default=None, max_length=32)
    # The Ops person of the account's own (ops_email); without one, BATON_OPS_USERS' first
    # stands in (bot.accounts.ops).
    ops_user_id: str | None = Field(default=None, max_length=32)
    manager_user_id: str | None = Field(default=None, max_length=32)
    channel_id: str | None = Field(default=None, max_length=32)
    channel_name: str | None = Field(default=None, max_length=80)
    retention_model: str = Field(default="A", max_length=1)
    status: str = Field(default=AccountStatus.HANDOFF_PENDING, max_length=32, index=True)
    closed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    provisioned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    setup_token: str | None = Field(default=None, max_length=32)
    setup_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Work in Slack is owed (a new account's channel and invites, a changed one's topic and
    # people) from this moment; None: nothing is owed (bot.handoff.setup_queue).
    setup_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    people_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    plan_after: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    packet_completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    csm_acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    kickoff_held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    kickoff_held_by: str | None = Field(default=None, max_length=32)
    first_value_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    churned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the CRM last changed this account (its own time where it says, else the signing
    # time): an older delivery never overwrites a newer one.
    crm_updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The customer-facing channel (shared through Slack Connect); the account channel is
    # internal and never shared.
    ext_channel_id: str | None = Field(default=None, max_length=32)
    ext_channel_name: str | None = Field(default=None, max_length=80)
    # Someone shared the internal channel outside the company: nothing internal goes there.
    channel_shared_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    channel_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)

    def user_of(self, role: str) -> str | None:
        return getattr(self, f"{role}_user_id", None)


NAME_KEY_LENGTH = 20


class NameSuffix(SQLModel, table=True):
    """A suffix of a word of an account's name, lowercased and cut to NAME_KEY_LENGTH
    characters (storage.names): what a lookup by words scans a range of."""

    __tablename__ = "name_suffixes"
    __table_args__ = {"sqlite_with_rowid": False}  # the key is the whole row

    team_id: str = Field(primary_key=True, max_length=32)
    suffix: str = Field(sa_column=Column(name_key(NAME_KEY_LENGTH), primary_key=True))
    account_id: int = Field(primary_key=True, foreign_key="accounts.id")


class Packet(SQLModel, table=True):
    """The current handoff packet of an account; every change is in packet_versions."""

    __tablename__ = "packets"
    __table_args__ = (UniqueConstraint("team_id", "account_id", name="uq_packets_account"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = Field(default=0)
    ae_part_by: str | None = Field(default=None, max_length=32)
    ae_part_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    marketing_part_by: str | None = Field(default=None, max_length=32)
    marketing_part_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PacketVersion(SQLModel, table=True):
    __tablename__ = "packet_versions"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "version", name="uq_packet_versions"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    version: int
    part: str = Field(max_length=16)
    edited_by: str = Field(max_length=32)
    edited_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class PacketDraft(SQLModel, table=True):
    """What someone typed into a packet modal and closed without submitting."""

    __tablename__ = "packet_drafts"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "user_id", "part", name="uq_packet_drafts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    user_id: str = Field(max_length=32)
    part: str = Field(max_length=16)
    values: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class Checkin(SQLModel, table=True):
    """A CSM's weekly check-in. `number` counts per account: it decides who is copied."""

    __tablename__ = "checkins"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "number", name="uq_checkins_number"),
        UniqueConstraint("team_id", "submission_key", name="uq_checkins_submission"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    number: int
    submission_key: str = Field(max_length=64)
    logged_by: str = Field(max_length=32)
    checkin_date: date
    summary: str = Field(sa_column=Column(Text, nullable=False))
    sentiment: str = Field(max_length=16)
    mismatch: bool = Field(default=False)
    promised: str | None = Field(default=None, sa_column=Column(Text))
    next_steps: str | None = Field(default=None, sa_column=Column(Text))
    first_value: bool = Field(default=False)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    clarified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    clarified_by: str | None = Field(default=None, max_length=32)
    clarification: str | None = Field(default=None, sa_column=Column(Text))
    edited_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class PacketRating(SQLModel, table=True):
    """The CSM's day-30 verdict on the handoff packet."""

    __tablename__ = "packet_ratings"
    __table_args__ = (UniqueConstraint("team_id", "account_id", name="uq_packet_ratings_account"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    rated_by: str = Field(max_length=32)
    rating: int
    missing: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class MilestoneStatus(StrEnum):
    OPEN = "open"  # planned; nudged when its day comes
    SNOOZED = "snoozed"
    DONE = "done"
    SKIPPED = "skipped"  # overtaken (downtime, a moved renewal date) or the account churned


class Milestone(SQLModel, table=True):
    """One playbook step of one renewal cycle of one account."""

    __tablename__ = "milestones"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "renewal_date", "key", name="uq_milestones"),
        Index("ix_milestones_team_due", "team_id", "due_date", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id", index=True)
    renewal_date: date  # the cycle it belongs to
    key: str = Field(max_length=40)
    title: str = Field(max_length=200)
    due_date: date  # the local working day it falls on
    owners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=MilestoneStatus.OPEN, max_length=16)
    snoozes: int = Field(default=0)
    # Each snooze or re-plan (a new owner) owes a fresh round of nudges; older rounds go moot.
    round: int = Field(default=0)
    snoozed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    done_by: str | None = Field(default=None, max_length=32)
    outcome: str | None = Field(default=None, sa_column=Column(Text))
    help_requested_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class HealthFlag(SQLModel, table=True):
    """The CSM's month-5 flag for one renewal cycle."""

    __tablename__ = "health_flags"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "renewal_date", name="uq_health_flags"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    renewal_date: date
    health: str = Field(max_length=8)  # flows.health.Health
    risks: str | None = Field(default=None, sa_column=Column(Text))
    expansion: str | None = Field(default=None, sa_column=Column(Text))
    flagged_by: str = Field(max_length=32)
    flagged_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CloseStatus(StrEnum):
    SIGNED = "signed"  # the renewal is signed (the renewal itself is recorded as renewed)
    NOT_YET = "not_yet"  # not signed at month 10: why, and when it should close


class CloseCheckpoint(SQLModel, table=True):
    """The commercial owner's month-10 answer for one renewal cycle: signed, or not yet."""

    __tablename__ = "close_checkpoints"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "renewal_date", name="uq_close_checkpoints"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    renewal_date: date  # the cycle it belongs to
    status: str = Field(max_length=8)  # CloseStatus
    reason: str | None = Field(default=None, sa_column=Column(Text))  # why not yet
    expected_close: date | None = Field(default=None)  # the new expected close date
    answered_by: str = Field(max_length=32)
    answered_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class RenewalOutcome(SQLModel, table=True):
    """How a renewal cycle ended: renewed (into the next cycle) or churned (and why)."""

    __tablename__ = "renewal_outcomes"
    __table_args__ = (
        UniqueConstraint("team_id", "account_id", "renewal_date", name="uq_renewal_outcomes"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    renewal_date: date  # the cycle that ended
    outcome: str = Field(max_length=8)  # renewed | churned
    new_renewal_date: date | None = Field(default=None)
    new_arr: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    # The ARR of the cycle that ended (None: recorded before Baton kept it).
    prior_arr: Decimal | None = Field(default=None, sa_column=Column(Numeric(14, 2)))
    reason: str | None = Field(default=None, max_length=32)  # flows.outcomes.ChurnReason
    note: str | None = Field(default=None, sa_column=Column(Text))
    effective_date: date
    recorded_by: str = Field(max_length=32)
    recorded_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    handback_held_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handback_held_by: str | None = Field(default=None, max_length=32)


class OwnershipEvent(SQLModel, table=True):
    """Who held each role of an account from `at` on, and why it changed: the audit trail
    behind `/baton history`. A row is written only when something actually changed."""

    __tablename__ = "ownership_events"
    __table_args__ = (Index("ix_ownership_events_account", "team_id", "account_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    account_id: int = Field(foreign_key="accounts.id")
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    cause: str = Field(max_length=40)
    actor: str | None = Field(default=None, max_length=32)
    ae_user_id: str | None = Field(default=None, max_length=32)
    csm_user_id: str | None = Field(default=None, max_length=32)
    am_user_id: str | None = Field(default=None, max_length=32)
    retention_model: str = Field(max_length=1)
    commercial: str = Field(max_length=8)  # the role owning the commercial side
    note: str | None = Field(default=None, sa_column=Column(Text))


class Coverage(SQLModel, table=True):
    """While `user_id` is away, `backup_user_id` gets their ownership answers and nudges."""

    __tablename__ = "coverages"
    __table_args__ = (
        Index("ix_coverages_user", "team_id", "user_id", "ends_at"),
        Index("ix_coverages_backup", "team_id", "backup_user_id", "ends_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    backup_user_id: str = Field(max_length=32)
    starts_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ends_at: datetime = Field(sa_type=UTCDateTime, nullable=False)  # exclusive
    until: date  # the last day covered, in the covered person's zone
    created_by: str = Field(max_length=32)
    created_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    ended_early_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=32)


class WebhookReceipt(SQLModel, table=True):
    """A signed CRM delivery already taken: the same signature again is a replay."""

    __tablename__ = "webhook_receipts"
    __table_args__ = (
        UniqueConstraint("team_id", "signature", name="uq_webhook_receipts"),
        Index("ix_webhook_receipts_received", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    signature: str = Field(max_length=100)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CrmEvent(SQLModel, table=True):
    """A CRM's own delivery id already taken (a HubSpot eventId, a Salesforce Outbound
    Message notification id): the CRM retries for a day, and a retry of one is skipped."""

    __tablename__ = "crm_events"
    __table_args__ = (
        UniqueConstraint("team_id", "source", "event_id", name="uq_crm_events"),
        Index("ix_crm_events_received", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    source: str = Field(max_length=16)  # hubspot | salesforce
    event_id: str = Field(max_length=64)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class CrmSync(SQLModel, table=True):
    """How far the CRM sync has read a CRM for a workspace: the newest change it has seen,
    the last pass and its error, if it failed."""

    __tablename__ = "crm_sync"
    __table_args__ = (UniqueConstraint("team_id", "crm", name="uq_crm_sync"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    crm: str = Field(max_length=16)
    synced_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_run_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Fault(SQLModel, table=True):
    """A step that failed for one subject (an account, an owed message): retried with
    backoff, shown by `/baton status`, gone once the step succeeds."""

    __tablename__ = "faults"
    __table_args__ = (
        UniqueConstraint("team_id", "subject", "subject_id", "step", name="uq_faults"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    subject: str = Field(max_length=16)  # account | message | digest
    subject_id: str = Field(max_length=64)
    step: str = Field(max_length=40)
    error: str = Field(sa_column=Column(Text, nullable=False))
    count: int
    first_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    last_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    retry_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class RateBucket(SQLModel, table=True):
    """One of Slack's rate limits as this workspace has used it so far, shared by every
    process on the database (bot.platform.budget): when the next request is due at the
    steady pace (a GCRA "theoretical arrival time", seconds since the epoch)."""

    __tablename__ = "rate_buckets"

    team_id: str = Field(primary_key=True, max_length=32)
    key: str = Field(primary_key=True, max_length=80)  # a method, or post:<channel>
    next_at: float


class Pilot(SQLModel, table=True):
    """A retention-model pilot (`/baton pilot start`): a named cohort of accounts put on
    one model from `started_at` on, compared with the rest of the book."""

    __tablename__ = "pilots"
    __table_args__ = (Index("uq_pilots_team_name_ci", "team_id", text("lower(name)"), unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    name: str = Field(max_length=40)  # flows.pilot.NAME: unique per team, any case
    model: str = Field(max_length=1)
    started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    started_by: str = Field(max_length=32)


class PilotAccount(SQLModel, table=True):
    """One account of a pilot's cohort."""

    __tablename__ = "pilot_accounts"
    __table_args__ = (Index("ix_pilot_accounts_account", "team_id", "account_id"),)

    pilot_id: int = Field(foreign_key="pilots.id", primary_key=True)
    account_id: int = Field(foreign_key="accounts.id", primary_key=True)
    team_id: str = Field(max_length=32)
