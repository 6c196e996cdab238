import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select
from sqlmodel import SQLModel

from storage import outbox
from storage.accounts import create_account, get_account
from storage.db import Database, make_engine, ping, session_scope
from storage.migrate import HEAD, at_head, downgrade, is_current, upgrade
from storage.models import OutboxMessage, RenewalOutcome
from storage.people import get_person, upsert_person
from storage.renewals import account_outcomes, record_renewal

NOW = datetime(2027, 1, 4, 9, tzinfo=UTC)


def owed(
    key: str, due: datetime = NOW, team: str = "T1", channel: str = "U1"
) -> outbox.OwedMessage:
    return outbox.OwedMessage(
        team_id=team, dedupe_key=key, channel=channel, text=f"msg {key}", due_at=due
    )


def test_migrations_define_exactly_the_models(blank_database_url: str) -> None:
    engine = make_engine(blank_database_url)
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    assert diff == []
    assert is_current(engine)
    engine.dispose()


def test_upgrade_is_idempotent_and_reversible(blank_database_url: str) -> None:
    engine = make_engine(blank_database_url)
    upgrade(engine)
    upgrade(engine)
    downgrade(engine, "base")
    assert "outbox" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert is_current(engine)
    engine.dispose()


def test_a_start_knows_the_schema_is_current_from_head_alone(blank_database_url: str) -> None:
    """`HEAD` is Alembic's head (a new migration must move it), and a database there is
    upgraded without Alembic; one an older Baton left behind is upgraded by it."""
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD
    engine = make_engine(blank_database_url)
    assert not at_head(engine)  # nothing there yet
    upgrade(engine, "0012")
    assert not at_head(engine) and not is_current(engine)
    upgrade(engine)
    assert at_head(engine) and is_current(engine)
    engine.dispose()


def test_every_table_is_scoped_by_team() -> None:
    for table in SQLModel.metadata.sorted_tables:
        assert "team_id" in table.columns, f"{table.name} has no team_id"


def test_pending_due_index_is_partial(engine) -> None:
    indexes = {index["name"]: index for index in inspect(engine).get_indexes("outbox")}
    assert "ix_outbox_pending_due" in indexes
    dialect_options = indexes["ix_outbox_pending_due"].get("dialect_options", {})
    wheres = [dialect_options.get(key) for key in ("sqlite_where", "postgresql_where")]
    assert any(where is not None and "pending" in str(where) for where in wheres)


def test_enqueue_is_idempotent_per_team(db) -> None:
    assert db.run_sync(outbox.enqueue, owed("a"))
    assert not db.run_sync(outbox.enqueue, owed("a"))
    assert db.run_sync(outbox.enqueue, owed("a", team="T2"))
    assert db.run_sync(outbox.count_by_status, "T1") == {"pending": 1}


def test_claim_takes_only_due_rows_in_due_order(db) -> None:
    db.run_sync(outbox.enqueue, owed("later", NOW + timedelta(minutes=1)))
    db.run_sync(outbox.enqueue, owed("second", NOW - timedelta(minutes=1)))
    db.run_sync(outbox.enqueue, owed("first", NOW - timedelta(minutes=5)))
    claims = db.run_sync(outbox.claim_due, NOW, immediate=True)
    assert [c.text for c in claims] == ["msg first", "msg second"]
    assert len({c.token for c in claims}) == 1
    assert db.run_sync(outbox.claim_due, NOW, immediate=True) == []


def test_results_are_recorded_only_under_the_claim_token(db) -> None:
    db.run_sync(outbox.enqueue, owed("a"))
    (claim,) = db.run_sync(outbox.claim_due, NOW, immediate=True)
    stale = outbox.Claim(**{**claim.__dict__, "token": "someone-else"})
    assert not db.run_sync(outbox.mark_sent, stale, "D1", "1.0", NOW)
    assert db.run_sync(outbox.mark_sent, claim, "D1", "1.0", NOW)
    assert not db.run_sync(outbox.mark_unknown, claim, "late timeout")
    assert db.run_sync(outbox.count_by_status, "T1") == {"sent": 1}


def test_release_owes_the_message_again_later(db) -> None:
    db.run_sync(outbox.enqueue, owed("a"))
    (claim,) = db.run_sync(outbox.claim_due, NOW, immediate=True)
    assert db.run_sync(outbox.release, claim, NOW + timedelta(seconds=30), "ratelimited")
    assert db.run_sync(outbox.claim_due, NOW + timedelta(seconds=29), immediate=True) == []
    (again,) = db.run_sync(outbox.claim_due, NOW + timedelta(seconds=30), immediate=True)
    assert again.id == claim.id and again.token != claim.token


def test_concurrent_claims_never_share_a_row(database_url: str, engine, db) -> None:
    for index in range(200):
        db.run_sync(outbox.enqueue, owed(f"k{index}", channel=f"U{index}"))
    engines = [make_engine(database_url) for _ in range(6)]
    dbs = [Database(e) for e in engines]
    claimed: list[list[int]] = [[] for _ in engines]
    barrier = threading.Barrier(len(engines))
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            barrier.wait()
            while batch := dbs[index].run_sync(outbox.claim_due, NOW, limit=7, immediate=True):
                claimed[index].extend(claim.id for claim in batch)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(engines))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for other in engines:
        other.dispose()
    assert errors == []
    every = [row for rows in claimed for row in rows]
    assert len(every) == 200 and len(set(every)) == 200
    with session_scope(engine) as session:
        attempts = set(session.scalars(select(OutboxMessage.attempts)))
    assert attempts == {1}


def test_a_channel_is_claimed_in_order_and_by_one_worker_at_a_time(db) -> None:
    for index in range(6):
        db.run_sync(outbox.enqueue, owed(f"c{index}", NOW - timedelta(minutes=6 - index)))
    db.run_sync(outbox.enqueue, owed("other", channel="U2"))
    first = db.run_sync(outbox.claim_due, NOW, limit=3, immediate=True)
    assert [c.dedupe_key for c in first] == ["c0", "c1", "c2"]
    # While those are being sent, another worker gets the other channel, not the rest.
    second = db.run_sync(outbox.claim_due, NOW, limit=10, immediate=True)
    assert [c.dedupe_key for c in second] == ["other"]
    for claim in first:
        db.run_sync(outbox.mark_sent, claim, claim.channel, "1.0", NOW)
    third = db.run_sync(outbox.claim_due, NOW, limit=10, immediate=True)
    assert [c.dedupe_key for c in third] == ["c3", "c4", "c5"]


def test_sending_one_message_now_sends_what_its_channel_owed_first(db) -> None:
    early = db.run_sync(outbox.enqueue, owed("early", NOW - timedelta(hours=1)))
    late = db.run_sync(outbox.enqueue, owed("late"))
    db.run_sync(outbox.enqueue, owed("elsewhere", channel="U2"))
    claimed = db.run_sync(outbox.claim_due, NOW, ids=[late], immediate=True)
    assert [c.id for c in claimed] == [early, late]


def test_naive_datetimes_are_refused(db) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        db.run_sync(outbox.enqueue, owed("naive", datetime(2027, 1, 4, 9)))


def test_people_upsert_keeps_one_row_per_user(db) -> None:
    db.run_sync(upsert_person, "T1", "U1", email="a@x.test", real_name="Ana", tz="UTC", now=NOW)
    db.run_sync(
        upsert_person,
        "T1",
        "U1",
        email="a@x.test",
        real_name="Ana R",
        tz="Asia/Tokyo",
        now=NOW + timedelta(hours=1),
    )
    person = db.run_sync(get_person, "T1", "U1")
    assert person is not None and person.tz == "Asia/Tokyo" and person.real_name == "Ana R"
    assert db.run_sync(get_person, "T2", "U1") is None


def test_ping_reports_an_unreachable_database() -> None:
    assert not ping(make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"))


def test_a_read_then_write_needs_the_write_lock_on_sqlite(db) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL claims lock rows with FOR UPDATE instead")
    db.run_sync(outbox.enqueue, owed("a"))
    with pytest.raises(RuntimeError, match="immediate=True"):
        db.run_sync(outbox.claim_due, NOW)
    assert db.run_sync(outbox.count_by_status, "T1") == {"pending": 1}  # rolled back


def test_a_unit_commits_all_of_its_writes_or_none(db) -> None:
    def both(session, key: str) -> None:  # noqa: ANN001
        outbox.enqueue(session, owed(key))
        outbox.enqueue(session, owed(key, team="T2"))
        if key == "bad":
            raise ValueError("after both writes")

    db.run_sync(both, "good")
    with pytest.raises(ValueError, match="after both writes"):
        db.run_sync(both, "bad")
    assert db.run_sync(outbox.count_by_status, "T1") == {"pending": 1}
    assert db.run_sync(outbox.count_by_status, "T2") == {"pending": 1}


def test_a_second_outcome_for_a_cycle_is_none_and_the_unit_goes_on(db) -> None:
    renewal = date(2028, 1, 4)
    account, _new = db.run_sync(
        create_account,
        {
            "team_id": "T1",
            "crm_id": "D-1",
            "name": "Acme",
            "contract_start": date(2027, 1, 4),
            "renewal_date": renewal,
            "ae_email": "ana@example.test",
            "csm_email": "chen@example.test",
            "closed_at": NOW,
            "arr": 1000,
        },
    )

    def renew_twice(session) -> tuple[object, object]:  # noqa: ANN001
        session.add(
            RenewalOutcome(
                team_id="T1",
                account_id=account.id,
                renewal_date=renewal,
                outcome="churned",
                effective_date=renewal,
                recorded_by="U1",
                recorded_at=NOW,
            )
        )
        session.flush()
        again = record_renewal(
            session,
            "T1",
            account.id,
            cycle=renewal,
            new_date=date(2029, 1, 4),
            new_arr=Decimal(2000),
            by="U1",
            note=None,
            now=NOW,
        )
        return again, outbox.enqueue(session, owed("after"))

    again, owed_id = db.run_sync(renew_twice, immediate=True)
    assert again is None and owed_id is not None
    assert db.run_sync(get_account, "T1", account.id).renewal_date == renewal
    assert [o.outcome for o in db.run_sync(account_outcomes, "T1", account.id)] == ["churned"]
    assert db.run_sync(outbox.count_by_status, "T1") == {"pending": 1}
