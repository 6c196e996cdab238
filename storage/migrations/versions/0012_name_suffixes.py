"""Lookups by words from an index: every suffix of every word of each account's name
(storage.names), filled for the accounts already there.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-16
"""

import sqlalchemy as sa
from alembic import op

from storage.names import index_every_name
from storage.types import name_key

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "name_suffixes",
        sa.Column("team_id", sa.String(32), primary_key=True),
        sa.Column("suffix", name_key(20), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), primary_key=True),
        sqlite_with_rowid=False,
    )
    index_every_name(op.get_bind())


def downgrade() -> None:
    op.drop_table("name_suffixes")
