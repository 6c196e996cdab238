"""Renewal milestones.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "milestones",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("owners", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("snoozes", sa.Integer(), nullable=False),
        sa.Column("snoozed_until", UTCDateTime(), nullable=True),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(32), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("help_requested_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", "renewal_date", "key", name="uq_milestones"),
    )
    op.create_index("ix_milestones_team_id", "milestones", ["team_id"])
    op.create_index("ix_milestones_account_id", "milestones", ["account_id"])


def downgrade() -> None:
    op.drop_table("milestones")
