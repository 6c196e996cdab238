"""Retention-model pilots: a named cohort of accounts put on one model from a day on, so
`/baton pilot` and the report can compare it with the rest of the book.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pilots",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("model", sa.String(length=1), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("started_by", sa.String(length=32), nullable=False),
    )
    op.create_index(
        "uq_pilots_team_name_ci", "pilots", ["team_id", sa.text("lower(name)")], unique=True
    )
    op.create_table(
        "pilot_accounts",
        sa.Column("pilot_id", sa.Integer(), sa.ForeignKey("pilots.id"), primary_key=True),
        sa.Column("account_id", sa.Integer(), sa.ForeignKey("accounts.id"), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
    )
    op.create_index("ix_pilot_accounts_account", "pilot_accounts", ["team_id", "account_id"])


def downgrade() -> None:
    op.drop_index("ix_pilot_accounts_account", "pilot_accounts")
    op.drop_table("pilot_accounts")
    op.drop_index("uq_pilots_team_name_ci", "pilots")
    op.drop_table("pilots")
