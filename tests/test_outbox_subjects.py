"""What an owed message is about lives in outbox columns: rows owed before revision 0010
are backfilled from their dedupe keys, and relevance reads the columns, never the keys."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from bot.outbox.relevance import moot_reason
from bot.platform.hooks import Hooks
from bot.runtime.features import install_hooks
from storage import outbox
from storage.accounts import create_account
from storage.db import Database, make_engine, session_scope
from storage.kinds import MessageKind, Subject, SubjectType
from storage.migrate import downgrade, upgrade
from storage.milestones import cycle_milestones, ensure_milestones, mark_done, snooze
from storage.models import Account, Coverage

NOW = datetime(2027, 9, 6, 8, tzinfo=UTC)
RENEWAL = date(2028, 1, 4)
CSM = "U0CSM"


def _account(session) -> Account:  # noqa: ANN001
    account, _new = create_account(
        session,
        {
            "team_id": "T1",
            "crm_id": "D-1",
            "name": "Acme",
            "contract_start": date(2027, 1, 4),
            "renewal_date": RENEWAL,
            "ae_email": "ana@example.test",
            "csm_email": "chen@example.test",
            "csm_user_id": CSM,
            "channel_id": "C0ACME",
            "closed_at": NOW - timedelta(days=240),
            "arr": 1000,
        },
    )
    ensure_milestones(
        session,
        [
            {
                "team_id": "T1",
                "account_id": account.id,
                "renewal_date": RENEWAL,
                "key": "day-120",
                "title": "Business review",
                "due_date": NOW.date(),
                "owners": ["csm"],
                "status": "open",
                "snoozes": 0,
                "created_at": NOW,
            }
        ],
    )
    return account


def _milestone_id(db: Database, account: Account) -> int:
    (milestone,) = db.run_sync(cycle_milestones, "T1", account.id, RENEWAL)
    return milestone.id


def _claims(db: Database) -> dict[str, outbox.Claim]:
    return {claim.dedupe_key: claim for claim in db.run_sync(outbox.claim_due, NOW, immediate=True)}


def _nudge(account: Account, key: str, subject: Subject | None) -> outbox.OwedMessage:
    columns = (
        {
            "subject_type": subject.type,
            "subject_id": subject.id,
            "milestone_id": subject.milestone_id,
            "round": subject.round,
        }
        if subject
        else {}
    )
    return outbox.OwedMessage(
        team_id="T1",
        dedupe_key=key,
        channel=CSM,
        text="Business review for Acme is due.",
        due_at=NOW,
        kind=MessageKind.MILESTONE_NUDGE,
        account_id=account.id,
        **columns,
    )


def test_relevance_reads_the_round_and_the_milestone_from_the_columns(db) -> None:
    account = db.run_sync(_account)
    milestone_id = _milestone_id(db, account)
    moot = moot_reason(install_hooks(Hooks()))
    db.run_sync(snooze, "T1", milestone_id, NOW + timedelta(days=3), immediate=True)  # round 0 → 1
    owed = {
        "round-0": Subject.milestone(milestone_id, 0),
        "round-1": Subject.milestone(milestone_id, 1),
        # Shaped like a nudge's key, but nothing says what it is about: keys are not read.
        f"ms-{milestone_id}-r0-{CSM}:{account.id}": None,
    }
    for key, subject in owed.items():
        db.run_sync(outbox.enqueue, _nudge(account, key, subject))
    claims = _claims(db)
    assert db.run_sync(moot, claims["round-0"]) == "milestone snoozed"
    assert db.run_sync(moot, claims["round-1"]) is None
    assert db.run_sync(moot, claims[f"ms-{milestone_id}-r0-{CSM}:{account.id}"]) is None
    db.run_sync(mark_done, "T1", milestone_id, CSM, "held", NOW)
    assert db.run_sync(moot, claims["round-1"]) == "milestone done"


def test_the_subject_type_is_one_of_the_known_ones(db) -> None:
    def owe_about_nothing_known(session) -> None:  # noqa: ANN001
        outbox.enqueue(
            session,
            outbox.OwedMessage(
                team_id="T1",
                dedupe_key="odd",
                channel=CSM,
                text="odd",
                due_at=NOW,
                subject_type="planet",
                subject_id="3",
            ),
        )

    with pytest.raises(IntegrityError):
        db.run_sync(owe_about_nothing_known)


_OLD_ROW = text(
    "INSERT INTO outbox (team_id, dedupe_key, kind, account_id, channel, text, due_at,"
    " status, attempts, created_at)"
    " VALUES ('T1', :key, :kind, :account_id, :channel, 'owed before 0010', :due, 'pending',"
    " 0, :due)"
)


def test_rows_owed_before_the_upgrade_are_backfilled_from_their_keys(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade(engine)  # today's models write the account; then back to before 0010
    db = Database(engine)
    account = db.run_sync(_account)
    milestone_id = _milestone_id(db, account)
    downgrade(engine, "0009")  # the schema before what a message is about had columns
    with session_scope(engine) as session:
        session.add(
            Coverage(
                team_id="T1",
                user_id=CSM,
                backup_user_id="U0BACKUP",
                starts_at=NOW,
                ends_at=NOW + timedelta(days=7),
                until=NOW.date() + timedelta(days=6),
                created_by=CSM,
                created_at=NOW,
            )
        )
    with engine.connect() as connection:
        (cover_id,) = connection.execute(text("SELECT id FROM coverages")).scalars()
    a = account.id
    old = [  # (key, kind, account id, channel): as Baton owed them before revision 0010
        (f"ms-{milestone_id}-r0-{CSM}:{a}", "milestone_nudge", a, CSM),
        (f"ms-{milestone_id}-r0-escalation-U0MGR:{a}", "milestone_escalation", a, "U0MGR"),
        (f"ms-{milestone_id}-done:{a}", "message", a, "C0ACME"),
        (f"mismatch-escalation-12-U0MGR:{a}", "mismatch_escalation", a, "U0MGR"),
        (f"checkin-12:{a}", "message", a, "C0ACME"),
        (f"checkin-prompt-k1:{a}", "checkin_prompt", a, CSM),
        ("digest-U0MGR-2027-09-06", "manager_digest", None, "U0MGR"),
        (f"cover-{cover_id}-backup", "coverage", None, "U0BACKUP"),
        (f"intro:{CSM}", "message", None, CSM),
        ("rating-alert:2027-W36:U0MGR", "message", None, "U0MGR"),
    ]
    with engine.begin() as connection:
        for key, kind, account_id, channel in old:
            connection.execute(
                _OLD_ROW,
                {
                    "key": key,
                    "kind": kind,
                    "account_id": account_id,
                    "channel": channel,
                    "due": NOW,
                },
            )
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT dedupe_key, subject_type, subject_id, milestone_id, round FROM outbox")
        ).all()
    about = {row[0]: tuple(row[1:]) for row in rows}
    m = str(milestone_id)
    assert about == {
        f"ms-{milestone_id}-r0-{CSM}:{a}": (SubjectType.MILESTONE, m, milestone_id, 0),
        f"ms-{milestone_id}-r0-escalation-U0MGR:{a}": ("milestone", m, milestone_id, 0),
        f"ms-{milestone_id}-done:{a}": ("milestone", m, milestone_id, None),
        f"mismatch-escalation-12-U0MGR:{a}": ("checkin", "12", None, None),
        f"checkin-12:{a}": ("checkin", "12", None, None),
        f"checkin-prompt-k1:{a}": ("account", str(a), None, None),
        "digest-U0MGR-2027-09-06": ("person", "U0MGR", None, None),
        f"cover-{cover_id}-backup": ("person", CSM, None, None),
        f"intro:{CSM}": ("person", CSM, None, None),
        "rating-alert:2027-W36:U0MGR": (None, None, None, None),
    }
    # The nudge owed before the upgrade is judged by its columns like any other.
    moot = moot_reason(install_hooks(Hooks()))
    nudge = _claims(db)[f"ms-{milestone_id}-r0-{CSM}:{a}"]
    db.run_sync(snooze, "T1", milestone_id, NOW + timedelta(days=3), immediate=True)
    assert db.run_sync(moot, nudge) == "milestone snoozed"
    db.run_sync(mark_done, "T1", milestone_id, CSM, "held", NOW)
    assert db.run_sync(moot, nudge) == "milestone done"
    engine.dispose()
