"""Check-ins, packet ratings, and when an account first reached value.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("first_value_at", UTCDateTime(), nullable=True))
    op.create_table(
        "checkins",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("submission_key", sa.String(64), nullable=False),
        sa.Column("logged_by", sa.String(32), nullable=False),
        sa.Column("checkin_date", sa.Date(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("sentiment", sa.String(16), nullable=False),
        sa.Column("mismatch", sa.Boolean(), nullable=False),
        sa.Column("promised", sa.Text(), nullable=True),
        sa.Column("next_steps", sa.Text(), nullable=True),
        sa.Column("first_value", sa.Boolean(), nullable=False),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("message_ts", sa.String(32), nullable=True),
        sa.Column("clarified_at", UTCDateTime(), nullable=True),
        sa.Column("clarified_by", sa.String(32), nullable=True),
        sa.Column("clarification", sa.Text(), nullable=True),
        sa.Column("edited_by", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", "number", name="uq_checkins_number"),
        sa.UniqueConstraint("team_id", "submission_key", name="uq_checkins_submission"),
    )
    op.create_index("ix_checkins_team_id", "checkins", ["team_id"])
    op.create_index("ix_checkins_account_id", "checkins", ["account_id"])
    op.create_table(
        "packet_ratings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("rated_by", sa.String(32), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("missing", sa.JSON(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", name="uq_packet_ratings_account"),
    )
    op.create_index("ix_packet_ratings_team_id", "packet_ratings", ["team_id"])


def downgrade() -> None:
    op.drop_table("packet_ratings")
    op.drop_table("checkins")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("first_value_at")
