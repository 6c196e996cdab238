"""Real CRMs in: the CRM's own delivery ids already taken (kept a day and more, as long
as HubSpot and Salesforce retry), and how far the CRM sync has read each CRM.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "crm_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.UniqueConstraint("team_id", "source", "event_id", name="uq_crm_events"),
    )
    op.create_index("ix_crm_events_received", "crm_events", ["received_at"])
    op.create_table(
        "crm_sync",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("crm", sa.String(length=16), nullable=False),
        sa.Column("synced_until", UTCDateTime(), nullable=True),
        sa.Column("last_run_at", UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("team_id", "crm", name="uq_crm_sync"),
    )


def downgrade() -> None:
    op.drop_table("crm_sync")
    op.drop_index("ix_crm_events_received", "crm_events")
    op.drop_table("crm_events")
