"""The index of account names behind `/baton owner <words>` and its closest names.

Each word of a name (lowercased, split at whitespace) is kept with every one of its
suffixes, cut to `KEY_LENGTH` characters, in `name_suffixes`. A query word is a substring
of a name exactly when it begins one of the name's suffixes, so "every word, in any
order, anywhere in the name" is one range scan of that index per word: it costs the
accounts that match, not the size of the book, on SQLite and PostgreSQL alike (the
column sorts by code point on both). The rows are written with the account, in the same
transaction; names never change after that (the CRM's updates leave them alone), and
whatever came to change one would re-index it in its own unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

from sqlalchemy import Connection, Select, Subquery, bindparam, func, intersect, select, union_all
from sqlmodel import Session

from storage.models import NAME_KEY_LENGTH, Account, NameSuffix

KEY_LENGTH = NAME_KEY_LENGTH
GRAM = 3  # characters a near miss must share with a name to be offered as the closest
GRAM_ROWS = 200  # accounts read per shared piece: a piece in more names says little
CANDIDATES = 50  # names scored for "the closest names"
INDEXED_WORDS = 4  # of a query's words, the longest looked up in the index; the rest checked
PIECES = 24  # of a near miss's pieces, the first looked up
_LAST = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def words_of(text: str) -> list[str]:
    """The words of a name or a query as the index knows them: lowercased, at whitespace."""
    return text.lower().split()


def suffixes_of(name: str) -> set[str]:
    """Every suffix of every word of `name`, each cut to `KEY_LENGTH` characters."""
    return {word[i : i + KEY_LENGTH] for word in words_of(name) for i in range(len(word))}


def suffix_rows(team_id: str, account_id: int, name: str) -> list[dict[str, object]]:
    return [
        {"team_id": team_id, "suffix": suffix, "account_id": account_id}
        for suffix in sorted(suffixes_of(name))
    ]


def index_names(session: Session | Connection, accounts: Iterable[tuple[int, str, str]]) -> None:
    """Index new accounts' names, given as (id, team, name), in the transaction that writes
    the accounts (or the backfill's)."""
    rows = [row for i, team, name in accounts for row in suffix_rows(team, i, name)]
    if rows:
        session.execute(NameSuffix.__table__.insert(), rows)


def index_every_name(connection: Connection, batch: int = 5000) -> int:
    """Index the name of every account (the migration's backfill into an empty index, a
    bench's bulk load); how many it indexed."""
    done, last = 0, 0
    while True:
        found = connection.execute(
            select(Account.id, Account.team_id, Account.name)
            .where(Account.id > last)
            .order_by(Account.id)
            .limit(batch)
        ).all()
        if not found:
            return done
        index_names(connection, found)
        done += len(found)
        last = found[-1][0]


def _after(key: str) -> str:
    """The least string greater than every string that begins with `key` (or, for a key
    of nothing but the last code point, one greater than every stored suffix)."""
    for end in range(len(key) - 1, -1, -1):
        point = ord(key[end]) + 1
        if point in _SURROGATES:
            point = _SURROGATES.stop
        if point <= _LAST:
            return key[:end] + chr(point)
    return chr(_LAST) * (KEY_LENGTH + 1)


def _range(pieces: Iterable[str]) -> dict[str, str]:
    """The bound values of `_beginning(i)` for each piece i: [lo_i, hi_i)."""
    values = {}
    for i, piece in enumerate(pieces):
        key = piece[:KEY_LENGTH]
        values[f"lo_{i}"], values[f"hi_{i}"] = key, _after(key)
    return values


def _beginning(i: int) -> Select:
    """The accounts of the team with a name suffix in [lo_i, hi_i): those that begin with
    the i-th piece asked about."""
    suffixes = NameSuffix.__table__.c
    return select(suffixes.account_id).where(
        suffixes.team_id == bindparam("team_id"),
        suffixes.suffix >= bindparam(f"lo_{i}"),
        suffixes.suffix < bindparam(f"hi_{i}"),
    )


# The statements are built once per shape (how many words or pieces) and reused with new
# values: building one costs more than running it.
@lru_cache(maxsize=64)
def _with_words(words: int, limited: bool) -> Select:
    accounts = Account.__table__.c
    statement = (
        select(Account)
        .where(
            accounts.team_id == bindparam("team_id"),
            accounts.id.in_(intersect(*(_beginning(i) for i in range(words)))),
        )
        .order_by(accounts.name, accounts.id)
    )
    return statement.limit(bindparam("limit")) if limited else statement


def accounts_with_words(
    session: Session, team_id: str, words: list[str], limit: int
) -> list[Account]:
    """Accounts whose name holds every one of `words` (as `words_of` gives them), in any
    order and anywhere in a word, by name."""
    distinct = sorted(set(words), key=len, reverse=True)
    indexed = distinct[:INDEXED_WORDS]
    if not indexed:
        return []
    values = {"team_id": team_id, "limit": limit, **_range(indexed)}
    # The index knows a word's first KEY_LENGTH characters and the longest words of a long
    # query; the rest is checked here, reading the names in order until enough hold it.
    checked = distinct[INDEXED_WORDS:] + [w for w in indexed if len(w) > KEY_LENGTH]
    if not checked:
        return list(session.scalars(_with_words(len(indexed), True), values))
    found = session.scalars(
        _with_words(len(indexed), False).execution_options(yield_per=100), values
    )
    holding = (account for account in found if _holds(account.name, checked))
    return [account for _, account in zip(range(limit), holding, strict=False)]


def _holds(name: str, words: Iterable[str]) -> bool:
    folded = name.lower()
    return all(word in folded for word in words)


def _pieces(words: Iterable[str]) -> Iterator[str]:
    for word in words:
        if len(word) <= GRAM:
            yield word
        else:
            yield from (word[i : i + GRAM] for i in range(len(word) - GRAM + 1))


def _first(i: int) -> Subquery:
    """The first `GRAM_ROWS` + 1 accounts with a name suffix beginning with piece i."""
    return _beginning(i).distinct().limit(GRAM_ROWS + 1).subquery()


@lru_cache(maxsize=64)
def _how_common(pieces: int) -> Select:
    """In how many names (up to GRAM_ROWS + 1) each piece is, in one row."""
    return select(
        *(select(func.count()).select_from(_first(i)).scalar_subquery() for i in range(pieces))
    )


@lru_cache(maxsize=64)
def _best_sharing(pieces: int, limit: int) -> Select:
    """(id, name) of the `limit` accounts sharing the most of pieces 0…pieces-1."""
    hits = union_all(*(select(_first(i).c.account_id) for i in range(pieces))).subquery()
    best = (
        select(hits.c.account_id, func.count().label("hits"))
        .group_by(hits.c.account_id)
        .order_by(func.count().desc(), hits.c.account_id)
        .limit(limit)
        .subquery()
    )
    accounts = Account.__table__.c
    return (
        select(accounts.id, accounts.name)
        .join(best, best.c.account_id == accounts.id)
        .where(accounts.team_id == bindparam("team_id"))
        .order_by(best.c.hits.desc(), accounts.id)
    )


def names_sharing_pieces(
    session: Session, team_id: str, words: list[str], limit: int = CANDIDATES
) -> list[tuple[int, str]]:
    """(id, name) of the accounts whose names share the most three-letter pieces with
    `words`: the few worth scoring as the closest to a query that matched none.

    Each piece counts at most `GRAM_ROWS` accounts, and a piece found in more names than
    that counts only when no rarer piece is shared at all. Two statements, whatever the
    size of the book: how common each piece is, then the best-sharing names."""
    pieces = list(dict.fromkeys(_pieces(words)))[:PIECES]
    if not pieces:
        return []
    counts = session.execute(_how_common(len(pieces)), {"team_id": team_id, **_range(pieces)})
    found = list(zip(pieces, counts.one(), strict=True))
    shared = [p for p, n in found if 0 < n <= GRAM_ROWS] or [p for p, n in found if n]
    if not shared:
        return []
    rows = session.execute(
        _best_sharing(len(shared), limit), {"team_id": team_id, **_range(shared)}
    )
    return [(i, name) for i, name in rows]
