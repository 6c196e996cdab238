"""What an owed message is about, in columns: its subject (an account, a check-in, a
milestone, a person) and, for a milestone's messages, the milestone and the round of nudges.

Until now this was parsed back out of dedupe keys (`ms-<id>-r<round>-…`). Rows written
before the upgrade are backfilled from those keys, so what was owed then is still found
moot or caught up; from here on keys are never parsed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SUBJECT_TYPES = ("account", "checkin", "milestone", "person")
_MILESTONE_ROUND = re.compile(r"^ms-(\d+)-r(\d+)-")  # nudges, channel notes, escalations
_MILESTONE = re.compile(r"^ms-(\d+)-(?:done|help):")
_CHECKIN = re.compile(
    r"^(?:checkin|checkin-cc|mismatch-ask|clarified|mismatch-escalation)-(\d+)[-:]"
)
_COVER = re.compile(r"^cover-(\d+)-(?:backup|person|ended)$")
_INTRO = re.compile(r"^intro:(.+)$")


def upgrade() -> None:
    allowed = ", ".join(f"'{t}'" for t in SUBJECT_TYPES)
    # Inline, so that SQLite adds the CHECK without rebuilding the table.
    op.execute(
        "ALTER TABLE outbox ADD COLUMN subject_type VARCHAR(16)"
        f" CONSTRAINT ck_outbox_subject_type CHECK (subject_type IN ({allowed}))"
    )
    op.add_column("outbox", sa.Column("subject_id", sa.String(64), nullable=True))
    op.add_column("outbox", sa.Column("milestone_id", sa.Integer(), nullable=True))
    op.add_column("outbox", sa.Column("round", sa.Integer(), nullable=True))
    op.create_index("ix_outbox_milestone", "outbox", ["team_id", "milestone_id", "round"])
    _backfill()


def _backfill() -> None:
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "UPDATE outbox SET subject_type = 'account', subject_id = CAST(account_id AS VARCHAR)"
            " WHERE account_id IS NOT NULL"
        )
    )
    covered = dict(connection.execute(sa.text("SELECT id, user_id FROM coverages")).all())
    rows = connection.execute(sa.text("SELECT id, dedupe_key, kind, channel FROM outbox")).all()
    updates = []
    for row in rows:
        subject = _subject(row.dedupe_key, row.kind, row.channel, covered)
        if subject is not None:
            updates.append({"row_id": row.id, **subject})
    if updates:
        connection.execute(
            sa.text(
                "UPDATE outbox SET subject_type = :subject_type, subject_id = :subject_id,"
                " milestone_id = :milestone_id, round = :round WHERE id = :row_id"
            ),
            updates,
        )


def _subject(key: str, kind: str, channel: str, covered: dict[int, str]) -> dict | None:
    def of(type_: str, id_: object, milestone: int | None = None, round_: int | None = None):
        return {
            "subject_type": type_,
            "subject_id": str(id_),
            "milestone_id": milestone,
            "round": round_,
        }

    if found := _MILESTONE_ROUND.match(key):
        milestone, round_ = int(found.group(1)), int(found.group(2))
        return of("milestone", milestone, milestone, round_)
    if found := _MILESTONE.match(key):
        return of("milestone", found.group(1), int(found.group(1)))
    if found := _CHECKIN.match(key):
        return of("checkin", found.group(1))
    if kind == "manager_digest":
        return of("person", channel)
    if (found := _COVER.match(key)) and int(found.group(1)) in covered:
        return of("person", covered[int(found.group(1))])
    if found := _INTRO.match(key):
        return of("person", found.group(1))
    return None


def downgrade() -> None:
    op.drop_index("ix_outbox_milestone", "outbox")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint("ck_outbox_subject_type", type_="check")
        batch.drop_column("round")
        batch.drop_column("milestone_id")
        batch.drop_column("subject_id")
        batch.drop_column("subject_type")
