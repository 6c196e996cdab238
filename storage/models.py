"""SQLModel tables. Every row is scoped by the Slack team id.

The schema itself is defined by the Alembic migrations in `storage/migrations`;
a test proves these models and the migrations agree.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.types import UTCDateTime, utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"  # owed, not yet attempted (or retried after a 429)
    SENDING = "sending"  # claimed by one worker; Slack may or may not have it
    SENT = "sent"
    UNKNOWN = "unknown"  # the call timed out or Slack answered 5xx: reconcile before resending
    FAILED = "failed"  # Slack refused it for good (e.g. channel_not_found)
    CANCELLED = "cancelled"


class Workspace(SQLModel, table=True):
    __tablename__ = "workspaces"

    team_id: str = Field(primary_key=True, max_length=32)
    team_name: str = Field(default="", max_length=255)
    bot_user_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Person(SQLModel, table=True):
    """What Baton knows of a Slack user: enough to address them at a sane local hour."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_people_team_user"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    user_id: str = Field(max_length=32)
    email: str | None = Field(default=None, max_length=320, index=True)
    real_name: str = Field(default="", max_length=255)
    tz: str | None = Field(default=None, max_length=64)
    refreshed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


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
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(index=True, max_length=32)
    dedupe_key: str = Field(max_length=255)
    channel: str = Field(max_length=32)
    text: str = Field(sa_column=Column(Text, nullable=False))
    blocks: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    thread_ts: str | None = Field(default=None, max_length=32)
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    claim_token: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=255)
    sent_channel: str | None = Field(default=None, max_length=32)
    sent_ts: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
