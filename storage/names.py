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

from collections import Counter
from collections.abc import Iterable, Iterator

from sqlalchemy import Connection, Select, intersect, select
from sqlmodel import Session

from storage.models import NAME_KEY_LENGTH, Account, NameSuffix

KEY_LENGTH = NAME_KEY_LENGTH
GRAM = 3  # characters a near miss must share with a name to be offered as the closest
GRAM_ROWS = 200  # accounts read per shared piece: a piece in more names says little
CANDIDATES = 50  # names scored for "the closest names"
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


def index_name(session: Session, team_id: str, account_id: int, name: str) -> None:
    """Index a new account's name (in the transaction that writes the account)."""
    rows = suffix_rows(team_id, account_id, name)
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
        rows = [row for i, team, name in found for row in suffix_rows(team, i, name)]
        if rows:
            connection.execute(NameSuffix.__table__.insert(), rows)
        done += len(found)
        last = found[-1][0]


def _after(key: str) -> str | None:
    """The least string greater than every string that begins with `key` (None: none is)."""
    for end in range(len(key) - 1, -1, -1):
        point = ord(key[end]) + 1
        if point in _SURROGATES:
            point = _SURROGATES.stop
        if point <= _LAST:
            return key[:end] + chr(point)
    return None


def _beginning(team_id: str, piece: str) -> Select:
    """The accounts of the team with a name suffix that begins with `piece`."""
    key = piece[:KEY_LENGTH]
    statement = select(NameSuffix.account_id).where(
        NameSuffix.team_id == team_id, NameSuffix.suffix >= key
    )
    upper = _after(key)
    return statement if upper is None else statement.where(NameSuffix.suffix < upper)


def accounts_with_words(
    session: Session, team_id: str, words: list[str], limit: int
) -> list[Account]:
    """Accounts whose name holds every one of `words` (as `words_of` gives them), in any
    order and anywhere in a word, by name."""
    if not words:
        return []
    matching = intersect(*(_beginning(team_id, word) for word in words))
    statement = (
        select(Account)
        .where(Account.team_id == team_id, Account.id.in_(matching))
        .order_by(Account.name, Account.id)
    )
    long = [word for word in words if len(word) > KEY_LENGTH]
    if not long:
        return list(session.scalars(statement.limit(limit)))
    # The index knows a word's first KEY_LENGTH characters; the rest is checked here.
    found = (a for a in session.scalars(statement) if _holds(a.name, long))
    return [account for _, account in zip(range(limit), found, strict=False)]


def _holds(name: str, words: Iterable[str]) -> bool:
    folded = name.lower()
    return all(word in folded for word in words)


def _pieces(words: Iterable[str]) -> Iterator[str]:
    for word in words:
        if len(word) <= GRAM:
            yield word
        else:
            yield from (word[i : i + GRAM] for i in range(len(word) - GRAM + 1))


def names_sharing_pieces(
    session: Session, team_id: str, words: list[str], limit: int = CANDIDATES
) -> list[tuple[int, str]]:
    """(id, name) of the accounts whose names share the most three-letter pieces with
    `words`: the few worth scoring as the closest to a query that matched none. Each piece
    reads at most `GRAM_ROWS` accounts; a piece found in more names than that counts
    only when no rarer piece is shared at all."""
    rare: Counter[int] = Counter()
    common: Counter[int] = Counter()
    for piece in dict.fromkeys(_pieces(words)):
        ids = list(session.scalars(_beginning(team_id, piece).distinct().limit(GRAM_ROWS + 1)))
        (common if len(ids) > GRAM_ROWS else rare).update(ids[:GRAM_ROWS])
    best = [i for i, _ in (rare or common).most_common(limit)]
    if not best:
        return []
    rows = session.execute(
        select(Account.id, Account.name).where(Account.team_id == team_id, Account.id.in_(best))
    )
    names = {i: name for i, name in rows}
    return [(i, names[i]) for i in best if i in names]
