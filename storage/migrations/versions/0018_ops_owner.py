"""An Ops person per account (the playbook's day-7 account confirmation, contract
logistics): the CRM's ops_email and the Slack user it was found as.

Skeptics became a required part of the packet's stakeholder map. A packet already
complete stays complete (its gate was passed under the old rule); one not complete yet
whose AE part was saved without skeptics has that part reopened (ae_part_at cleared), so
`/baton pending` lists it for the AE and the gate can still close once they are named.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("accounts", sa.Column("ops_email", sa.String(320), nullable=True))
    op.add_column("accounts", sa.Column("ops_user_id", sa.String(32), nullable=True))
    _reopen_packets_without_skeptics()


def _reopen_packets_without_skeptics() -> None:
    connection = op.get_bind()
    open_parts = connection.execute(
        sa.text(
            "SELECT p.id, p.answers FROM packets p JOIN accounts a ON a.id = p.account_id "
            "WHERE a.packet_completed_at IS NULL AND p.ae_part_at IS NOT NULL"
        )
    )
    reopened = []
    for packet_id, answers in open_parts:
        if isinstance(answers, str):  # SQLite hands JSON back as text
            answers = json.loads(answers)
        skeptics = (answers or {}).get("skeptics")
        if skeptics is None or not str(skeptics).strip():
            reopened.append(packet_id)
    if reopened:
        connection.execute(
            sa.text("UPDATE packets SET ae_part_at = NULL WHERE id IN :ids").bindparams(
                sa.bindparam("ids", expanding=True)
            ),
            {"ids": reopened},
        )


def downgrade() -> None:
    op.drop_column("accounts", "ops_user_id")
    op.drop_column("accounts", "ops_email")
