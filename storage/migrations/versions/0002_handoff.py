"""Accounts, handoff packets (with versions and drafts); outbox rows know their account.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="message"))
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("expires_at", UTCDateTime(), nullable=True))
        batch.create_index("ix_outbox_account_id", ["account_id"])
    with op.batch_alter_table("outbox") as batch:
        batch.alter_column("kind", server_default=None)

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("crm_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("arr", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("contract_start", sa.Date(), nullable=False),
        sa.Column("renewal_date", sa.Date(), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(64), nullable=True),
        sa.Column("crm_url", sa.String(2000), nullable=True),
        sa.Column("ae_email", sa.String(320), nullable=False),
        sa.Column("csm_email", sa.String(320), nullable=False),
        sa.Column("am_email", sa.String(320), nullable=True),
        sa.Column("manager_email", sa.String(320), nullable=True),
        sa.Column("champion_email", sa.String(320), nullable=True),
        sa.Column("ae_user_id", sa.String(32), nullable=True),
        sa.Column("csm_user_id", sa.String(32), nullable=True),
        sa.Column("am_user_id", sa.String(32), nullable=True),
        sa.Column("manager_user_id", sa.String(32), nullable=True),
        sa.Column("channel_id", sa.String(32), nullable=True),
        sa.Column("channel_name", sa.String(80), nullable=True),
        sa.Column("retention_model", sa.String(1), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=False),
        sa.Column("provisioned_at", UTCDateTime(), nullable=True),
        sa.Column("setup_token", sa.String(32), nullable=True),
        sa.Column("setup_until", UTCDateTime(), nullable=True),
        sa.Column("people_checked_at", UTCDateTime(), nullable=True),
        sa.Column("plan_after", UTCDateTime(), nullable=True),
        sa.Column("packet_completed_at", UTCDateTime(), nullable=True),
        sa.Column("csm_acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("kickoff_held_at", UTCDateTime(), nullable=True),
        sa.Column("kickoff_held_by", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "crm_id", name="uq_accounts_team_crm"),
    )
    op.create_index("ix_accounts_team_id", "accounts", ["team_id"])
    op.create_index("ix_accounts_status", "accounts", ["status"])
    op.create_index("ix_accounts_plan_after", "accounts", ["plan_after"])
    op.create_index(
        "ix_accounts_unprovisioned",
        "accounts",
        ["id"],
        sqlite_where=sa.text("provisioned_at IS NULL"),
        postgresql_where=sa.text("provisioned_at IS NULL"),
    )

    op.create_table(
        "packets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("ae_part_by", sa.String(32), nullable=True),
        sa.Column("ae_part_at", UTCDateTime(), nullable=True),
        sa.Column("marketing_part_by", sa.String(32), nullable=True),
        sa.Column("marketing_part_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("team_id", "account_id", name="uq_packets_account"),
    )
    op.create_index("ix_packets_team_id", "packets", ["team_id"])

    op.create_table(
        "packet_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("part", sa.String(16), nullable=False),
        sa.Column("edited_by", sa.String(32), nullable=False),
        sa.Column("edited_at", UTCDateTime(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", "version", name="uq_packet_versions"),
    )
    op.create_index("ix_packet_versions_team_id", "packet_versions", ["team_id"])

    op.create_table(
        "packet_drafts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("user_id", sa.String(32), nullable=False),
        sa.Column("part", sa.String(16), nullable=False),
        sa.Column("values", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "account_id", "user_id", "part", name="uq_packet_drafts"),
    )
    op.create_index("ix_packet_drafts_team_id", "packet_drafts", ["team_id"])


def downgrade() -> None:
    op.drop_table("packet_drafts")
    op.drop_table("packet_versions")
    op.drop_table("packets")
    op.drop_table("accounts")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_account_id")
        batch.drop_column("account_id")
        batch.drop_column("expires_at")
        batch.drop_column("kind")
