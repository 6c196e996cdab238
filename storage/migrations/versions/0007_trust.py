"""Trust: CRM update order and replayed webhooks, failures kept per account (and shown),
a paused workspace when Slack refuses the token, the customer-facing channel apart from
the internal one, and people from outside the workspace (guests, Slack Connect).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ACCOUNT_COLUMNS = (
    ("crm_updated_at", UTCDateTime()),
    ("ext_channel_id", sa.String(32)),
    ("ext_channel_name", sa.String(80)),
    ("channel_shared_at", UTCDateTime()),
    ("channel_checked_at", UTCDateTime()),
)
_WORKSPACE_COLUMNS = (
    ("paused_at", UTCDateTime()),
    ("paused_error", sa.String(64)),
    ("pause_checked_at", UTCDateTime()),
)


def upgrade() -> None:
    for name, kind in _ACCOUNT_COLUMNS:
        op.add_column("accounts", sa.Column(name, kind, nullable=True))
    for name, kind in _WORKSPACE_COLUMNS:
        op.add_column("workspaces", sa.Column(name, kind, nullable=True))
    op.add_column(
        "people",
        sa.Column("outsider", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("signature", sa.String(100), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "signature", name="uq_webhook_receipts"),
    )
    op.create_index("ix_webhook_receipts_received", "webhook_receipts", ["received_at"])
    op.create_table(
        "faults",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.String(64), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", UTCDateTime(), nullable=False),
        sa.Column("last_at", UTCDateTime(), nullable=False),
        sa.Column("retry_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "subject", "subject_id", "step", name="uq_faults"),
    )


def downgrade() -> None:
    op.drop_table("faults")
    op.drop_table("webhook_receipts")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy of `accounts` would lose
    # its expression indexes, which SQLite's reflection cannot see.
    op.execute("ALTER TABLE people DROP COLUMN outsider")
    for table, columns in (("workspaces", _WORKSPACE_COLUMNS), ("accounts", _ACCOUNT_COLUMNS)):
        for name, _kind in reversed(columns):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {name}")
