"""For pace: Slack's rate limits as every process on the database has used them
(bot.platform.budget); the set-up owed in Slack as a queue (accounts.setup_due_at, filled
for accounts not yet set up); an index for claiming each channel's messages in order (storage.outbox.claim_due), and one
for finding a person Baton already knows by email (bot.handoff.people).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-15
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_buckets",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("next_at", sa.Float(), nullable=False),
    )
    op.create_index(
        "ix_outbox_owed_channel",
        "outbox",
        ["team_id", "channel", "due_at"],
        sqlite_where=sa.text("status IN ('pending', 'sending')"),
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )

    op.create_index("ix_people_team_email_ci", "people", ["team_id", sa.text("lower(email)")])
    op.add_column("accounts", sa.Column("setup_due_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE accounts SET setup_due_at = created_at WHERE provisioned_at IS NULL")
    op.create_index(
        "ix_accounts_setup_due",
        "accounts",
        ["setup_due_at"],
        sqlite_where=sa.text("setup_due_at IS NOT NULL"),
        postgresql_where=sa.text("setup_due_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_setup_due", "accounts")
    # Not batch (a rebuilt table would lose 0006's expression indexes): SQLite ≥ 3.35.
    op.drop_column("accounts", "setup_due_at")
    op.drop_index("ix_people_team_email_ci", "people")
    op.drop_index("ix_outbox_owed_channel", "outbox")
    op.drop_table("rate_buckets")
