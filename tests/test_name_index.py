"""The index behind `/baton owner <words>` (storage.names): the same answers as reading
every name, on SQLite and PostgreSQL, kept with the accounts it indexes."""

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from bot.accounts.lookup import closest_accounts
from storage.accounts import create_account, create_accounts, search_accounts
from storage.db import Database
from storage.migrate import downgrade, upgrade
from storage.models import Account, NameSuffix
from storage.names import KEY_LENGTH, suffixes_of


def _values(team: str, crm_id: str, name: str) -> dict:
    return {
        "team_id": team,
        "crm_id": crm_id,
        "name": name,
        "contract_start": date(2027, 1, 4),
        "renewal_date": date(2028, 1, 4),
        "ae_email": "ana@example.test",
        "csm_email": "chen@example.test",
        "closed_at": datetime(2027, 1, 4, tzinfo=UTC),
        "arr": 0,
    }


def _add(db, team: str, crm_id: str, name: str) -> None:  # noqa: ANN001
    db.run_sync(create_account, _values(team, crm_id, name))


def _names(db, team: str, text: str) -> list[str]:  # noqa: ANN001
    return [a.name for a in db.run_sync(search_accounts, team, text)]


def test_every_word_anywhere_in_any_order_and_any_case(db) -> None:
    for i, name in enumerate(("Acme Robotics", "Acme Foods", "Robo Acmeville", "Müller GmbH")):
        _add(db, "T1", f"D-{i}", name)
    _add(db, "T2", "D-9", "Acme Robotics")
    assert _names(db, "T1", "robotics acme") == ["Acme Robotics"]
    assert _names(db, "T1", "cme obo") == ["Acme Robotics", "Robo Acmeville"]
    assert _names(db, "T1", "acme") == ["Acme Foods", "Acme Robotics", "Robo Acmeville"]
    assert _names(db, "T1", "MÜLL gmb") == ["Müller GmbH"]  # one folding on both databases
    assert _names(db, "T1", "acme zzz") == []
    assert _names(db, "T2", "foods") == []


def test_deals_taken_in_together_are_indexed_as_one_alone(db) -> None:
    """The webhook's group commit creates accounts in one statement (`create_accounts`):
    they are found by words just the same, and a redelivered deal adds no second entry."""
    _add(db, "T1", "D-0", "Acme Robotics")
    batch = [_values("T1", "D-1", "Globex Robotics"), _values("T1", "D-0", "Acme Robotics")]
    created = db.run_sync(create_accounts, batch)
    assert {key: new for key, (_, new) in created.items()} == {
        ("T1", "D-1"): True,
        ("T1", "D-0"): False,
    }
    assert _names(db, "T1", "robotics") == ["Acme Robotics", "Globex Robotics"]
    assert _names(db, "T1", "globex") == ["Globex Robotics"]
    entries = db.run_sync(lambda s: s.scalar(select(func.count()).select_from(NameSuffix)))
    assert entries == len(suffixes_of("Acme Robotics")) + len(suffixes_of("Globex Robotics"))


def test_words_longer_than_the_key_are_checked_whole(db) -> None:
    long = "Supercalifragilisticexpialidocious Holdings"
    _add(db, "T1", "D-1", long)
    _add(db, "T1", "D-2", "Supercalifragilisticexpialidocia Ltd")
    assert max(len(s) for s in suffixes_of(long)) == KEY_LENGTH
    assert _names(db, "T1", "califragilisticexpialidocious") == [long]
    assert _names(db, "T1", "SUPERCALIFRAGILISTICEXPIALIDOCI") == [
        "Supercalifragilisticexpialidocia Ltd",
        long,
    ]


def test_a_new_account_is_indexed_in_its_own_transaction_once(db) -> None:
    _add(db, "T1", "D-1", "Acme Acme")
    _add(db, "T1", "D-1", "Acme Acme")  # a redelivery creates nothing, indexes nothing

    def rows(session) -> int:  # noqa: ANN001
        return session.scalar(select(func.count()).select_from(NameSuffix))

    assert db.run_sync(rows) == len(suffixes_of("Acme Acme")) == 4


def test_the_closest_names_come_from_the_pieces_a_typo_shares(db) -> None:
    for i, name in enumerate(("Acme Robotics", "Acme Foods", "Globex", "Initech")):
        _add(db, "T1", f"D-{i}", name)
    closest = db.run_sync(closest_accounts, "T1", "acme robotcs")
    assert [a.name for a in closest][0] == "Acme Robotics"
    assert "Globex" not in [a.name for a in closest]
    assert db.run_sync(closest_accounts, "T1", "zzqx") == []
    assert db.run_sync(closest_accounts, "T2", "acme robotcs") == []


def test_the_migration_indexes_the_accounts_already_there(engine) -> None:
    downgrade(engine, "0011")
    with engine.begin() as connection:
        connection.execute(Account.__table__.insert(), [_values("T1", "D-1", "Acme Robotics")])
    upgrade(engine)
    db = Database(engine)
    assert _names(db, "T1", "robot") == ["Acme Robotics"]
    downgrade(engine, "0011")
    upgrade(engine)
    assert _names(db, "T1", "botics acme") == ["Acme Robotics"]


def test_a_query_of_many_words_is_answered_by_the_same_rule(db) -> None:
    _add(db, "T1", "D-1", "Alpha Beta Gamma Delta Epsilon Zeta")
    _add(db, "T1", "D-2", "Alpha Beta Gamma Delta Epsilon")
    assert _names(db, "T1", "zeta alpha eta beta gamma delta") == [
        "Alpha Beta Gamma Delta Epsilon Zeta"
    ]
    assert _names(db, "T1", "pha bet gam del eps") == [
        "Alpha Beta Gamma Delta Epsilon",
        "Alpha Beta Gamma Delta Epsilon Zeta",
    ]
    many = " ".join(f"w{i}" for i in range(600))
    assert _names(db, "T1", many) == []
    assert db.run_sync(closest_accounts, "T1", many) == []
