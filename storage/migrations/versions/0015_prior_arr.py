"""The ARR of the renewal cycle an outcome ended, so the expansion rate covers an
account's first renewal too (a renewal overwrites the account's ARR).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("renewal_outcomes", sa.Column("prior_arr", sa.Numeric(14, 2), nullable=True))


def downgrade() -> None:
    op.drop_column("renewal_outcomes", "prior_arr")
