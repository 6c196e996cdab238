"""Ownership: the audit trail of who held each role, coverage while someone is away,
the hand-back call on a renewal, and the indexes behind `/baton owner` and the App Home.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_ACCOUNT_INDEXES = {
    "ix_accounts_team_ae": ["team_id", "ae_user_id"],
    "ix_accounts_team_csm": ["team_id", "csm_user_id"],
    "ix_accounts_team_am": ["team_id", "am_user_id"],
    "ix_accounts_team_manager": ["team_id", "manager_user_id"],
    "ix_accounts_team_renewal": ["team_id", "renewal_date"],
    "ix_accounts_team_name_ci": ["team_id", sa.text("lower(name)")],
    "ix_accounts_team_crm_ci": ["team_id", sa.text("lower(crm_id)")],
    "ix_accounts_team_channel_ci": ["team_id", sa.text("lower(channel_name)")],
}


def upgrade() -> None:
    for name, columns in _ACCOUNT_INDEXES.items():
        op.create_index(name, "accounts", columns)
    op.create_index("ix_milestones_team_due", "milestones", ["team_id", "due_date", "status"])
    op.add_column("renewal_outcomes", sa.Column("handback_held_at", UTCDateTime(), nullable=True))
    op.add_column("renewal_outcomes", sa.Column("handback_held_by", sa.String(32), nullable=True))
    op.create_table(
        "ownership_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("cause", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(32), nullable=True),
        sa.Column("ae_user_id", sa.String(32), nullable=True),
        sa.Column("csm_user_id", sa.String(32), nullable=True),
        sa.Column("am_user_id", sa.String(32), nullable=True),
        sa.Column("retention_model", sa.String(1), nullable=False),
        sa.Column("commercial", sa.String(8), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index(
        "ix_ownership_events_account", "ownership_events", ["team_id", "account_id", "at"]
    )
    op.create_table(
        "coverages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("backup_user_id", sa.String(32), nullable=False),
        sa.Column("starts_at", UTCDateTime(), nullable=False),
        sa.Column("ends_at", UTCDateTime(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_early_at", UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.String(32), nullable=True),
    )
    op.create_index("ix_coverages_user", "coverages", ["team_id", "user_id", "ends_at"])
    op.create_index("ix_coverages_backup", "coverages", ["team_id", "backup_user_id", "ends_at"])


def downgrade() -> None:
    op.drop_table("coverages")
    op.drop_table("ownership_events")
    with op.batch_alter_table("renewal_outcomes") as batch:
        batch.drop_column("handback_held_by")
        batch.drop_column("handback_held_at")
    op.drop_index("ix_milestones_team_due", "milestones")
    for name in _ACCOUNT_INDEXES:
        op.drop_index(name, "accounts")
