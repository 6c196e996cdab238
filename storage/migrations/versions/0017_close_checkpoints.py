"""The month-10 close checkpoint: the commercial owner's answer for each renewal cycle
(signed, or not yet with the reason and the new expected close date).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "close_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("answered_by", sa.String(32), nullable=False),
        sa.Column("answered_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", "renewal_date", name="uq_close_checkpoints"),
    )
    op.create_index("ix_close_checkpoints_team_id", "close_checkpoints", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_close_checkpoints_team_id", "close_checkpoints")
    op.drop_table("close_checkpoints")
