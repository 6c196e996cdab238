"""Reconciliation that pages history: when an uncertain outbox row is next read back.

`claimed_at` now stays the time of the claim under which the message may have been
posted (reconciling no longer moves it), so it bounds the history window to read. Rows in
flight at upgrade may carry a later reconcile time there: their due time is a safe floor.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("next_check_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE outbox SET claimed_at = due_at"
        " WHERE status IN ('unknown', 'sending') AND (claimed_at IS NULL OR due_at < claimed_at)"
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("next_check_at")
