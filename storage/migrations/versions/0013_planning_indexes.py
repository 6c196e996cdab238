"""For a tick that costs what is due: the messages whose fate at Slack is unknown, found
without reading the outbox's sent history (storage.outbox.reclaim_uncertain: SQLite, once
ANALYZE has seen how few statuses there are, otherwise scans the whole table), the held
messages by channel (storage.outbox.held_due: PostgreSQL otherwise walks every message in
team order), and each workspace's managers of live accounts, found one index step per
manager (storage.accounts.live_managers).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-16
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

UNCERTAIN = "status IN ('unknown', 'sending')"
HELD = "status = 'held'"
LIVE_MANAGED = "manager_user_id IS NOT NULL AND status <> 'churned'"


def upgrade() -> None:
    op.create_index(
        "ix_outbox_uncertain",
        "outbox",
        ["id"],
        sqlite_where=sa.text(UNCERTAIN),
        postgresql_where=sa.text(UNCERTAIN),
    )
    op.create_index(
        "ix_outbox_held",
        "outbox",
        ["team_id", "channel"],
        sqlite_where=sa.text(HELD),
        postgresql_where=sa.text(HELD),
    )
    op.create_index(
        "ix_accounts_live_manager",
        "accounts",
        ["team_id", "manager_user_id"],
        sqlite_where=sa.text(LIVE_MANAGED),
        postgresql_where=sa.text(LIVE_MANAGED),
    )


def downgrade() -> None:
    op.drop_index("ix_accounts_live_manager", "accounts")
    op.drop_index("ix_outbox_held", "outbox")
    op.drop_index("ix_outbox_uncertain", "outbox")
