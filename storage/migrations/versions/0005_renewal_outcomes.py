"""Renewal clock: local wall time of owed messages, milestone rounds, month-5 health flags,
renewal outcomes (renewed / churned).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The local date, wall time and zone an owed message's UTC due time came from: a
    # person's zone change re-plans what is still owed to them.
    op.add_column("outbox", sa.Column("local_date", sa.Date(), nullable=True))
    op.add_column("outbox", sa.Column("local_time", sa.String(5), nullable=True))
    op.add_column("outbox", sa.Column("local_tz", sa.String(64), nullable=True))
    op.add_column(
        "milestones", sa.Column("round", sa.Integer(), nullable=False, server_default="0")
    )
    op.execute("UPDATE milestones SET round = snoozes")
    op.add_column("accounts", sa.Column("churned_at", UTCDateTime(), nullable=True))
    op.create_table(
        "health_flags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("health", sa.String(8), nullable=False),
        sa.Column("risks", sa.Text(), nullable=True),
        sa.Column("expansion", sa.Text(), nullable=True),
        sa.Column("flagged_by", sa.String(32), nullable=False),
        sa.Column("flagged_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", "renewal_date", name="uq_health_flags"),
    )
    op.create_index("ix_health_flags_team_id", "health_flags", ["team_id"])
    op.create_table(
        "renewal_outcomes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("new_renewal_date", sa.Date(), nullable=True),
        sa.Column("new_arr", sa.Numeric(14, 2), nullable=True),
        sa.Column("reason", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("recorded_by", sa.String(32), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", "renewal_date", name="uq_renewal_outcomes"),
    )
    op.create_index("ix_renewal_outcomes_team_id", "renewal_outcomes", ["team_id"])


def downgrade() -> None:
    op.drop_table("renewal_outcomes")
    op.drop_table("health_flags")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("churned_at")
    with op.batch_alter_table("milestones") as batch:
        batch.drop_column("round")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("local_tz")
        batch.drop_column("local_time")
        batch.drop_column("local_date")
