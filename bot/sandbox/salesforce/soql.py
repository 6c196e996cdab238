"""The SOQL the sandbox answers, parsed properly and refused with Salesforce's error codes
and message shape for everything else.

    SELECT <field or parent.field, ...> FROM <object>
    [WHERE <condition> [AND <condition> ...]]
    [ORDER BY <field> [ASC|DESC] [NULLS FIRST|LAST], ...]
    [LIMIT <n>]

A condition is `<path> <op> <literal>` (op: = != <> < <= > >=) or `<path> IN (<literal>,
...)`. Literals are typed as Salesforce types them: booleans TRUE/FALSE, dateTimes in the
three documented forms (`1999-01-01T23:01:01Z`, `...+01:00`, `...-08:00`, never quoted),
dates `1999-01-01`, numbers, 'strings' with SOQL's backslash escapes, and NULL. Keywords
and names are case-insensitive; text compares case-insensitively, as in SOQL. OR, NOT,
LIKE, functions, subqueries, GROUP BY, OFFSET and the rest are MALFORMED_QUERY here
(stricter than Salesforce, never more lenient), and so is a parent more than one level up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.sandbox.salesforce.ids import canonical
from bot.sandbox.salesforce.org import FieldDef, SalesforceOrg

_TOKEN = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<string>'(?:[^'\\]|\\.)*')
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2}))(?![\w.:+-])
    |(?P<date>\d{4}-\d{2}-\d{2})(?![\w.:+-])
    |(?P<number>-?\d+(?:\.\d+)?)(?![\w.])
    |(?P<name>[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[,()])
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
_KEYWORDS = {
    "SELECT",
    "FROM",
    "WHERE",
    "AND",
    "ORDER",
    "BY",
    "ASC",
    "DESC",
    "NULLS",
    "FIRST",
    "LAST",
    "LIMIT",
    "IN",
    "TRUE",
    "FALSE",
    "NULL",
}
# Words SOQL knows that the sandbox does not answer: refused where they stand.
_UNSUPPORTED = {
    "OR",
    "NOT",
    "LIKE",
    "GROUP",
    "HAVING",
    "OFFSET",
    "WITH",
    "FOR",
    "USING",
    "TYPEOF",
    "INCLUDES",
    "EXCLUDES",
    "ALL",
}
_TEXT_TYPES = {"id", "reference", "string", "email", "picklist"}
_TYPE_NAMES = {
    "boolean": "boolean",
    "datetime": "dateTime",
    "date": "date",
    "currency": "currency",
    "double": "double",
}
MAX_QUERY_CHARS = 100_000  # SOQL's limit on a statement


class SoqlError(Exception):
    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "name" else ""


@dataclass(frozen=True)
class Path:
    parts: tuple[str, ...]
    token: Token


@dataclass(frozen=True)
class Condition:
    path: Path
    op: str  # "=", "!=", "<", "<=", ">", ">=", "IN"
    literals: tuple[Token, ...]


@dataclass(frozen=True)
class OrderKey:
    path: Path
    ascending: bool
    nulls_first: bool


@dataclass(frozen=True)
class Query:
    sobject: Token
    fields: tuple[Path, ...]
    where: tuple[Condition, ...]
    order: tuple[OrderKey, ...]
    limit: int | None


@dataclass(frozen=True)
class Resolved:
    """A path resolved against the schema: a field of the object, or of one parent."""

    name: str  # as Salesforce answers it: "Amount", "Owner.Email"
    field: FieldDef
    via: FieldDef | None = None  # the reference field leading to the parent


# --- errors in Salesforce's shape ---------------------------------------------------------------
def located(soql: str, pos: int, text: str) -> str:
    """Salesforce's message: the query's line, a caret, the row and column, the reason."""
    row = soql.count("\n", 0, pos) + 1
    line_start = soql.rfind("\n", 0, pos) + 1
    line_end = soql.find("\n", pos)
    line = soql[line_start : line_end if line_end >= 0 else len(soql)]
    column = pos - line_start + 1
    start = max(0, column - 1 - 60)
    window = line[start : column - 1 + 60]
    return f"\n{window}\n{' ' * (column - 1 - start)}^\nERROR at Row:{row}:Column:{column}\n{text}"


def _unexpected(soql: str, token: Token | None) -> SoqlError:
    if token is None:
        return SoqlError("MALFORMED_QUERY", located(soql, len(soql), "unexpected token: '<EOF>'"))
    return SoqlError(
        "MALFORMED_QUERY", located(soql, token.pos, f"unexpected token: '{token.text}'")
    )


# --- parsing --------------------------------------------------------------------------------
def tokens(soql: str) -> list[Token]:
    found = []
    for match in _TOKEN.finditer(soql):
        kind = match.lastgroup or "other"
        if kind != "ws":
            found.append(Token(kind, match.group(), match.start()))
    return found


class _Parser:
    def __init__(self, soql: str) -> None:
        self.soql = soql
        self.tokens = tokens(soql)
        self.at = 0

    def peek(self) -> Token | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> Token:
        token = self.peek()
        if token is None or token.kind == "other" or token.word in _UNSUPPORTED:
            raise _unexpected(self.soql, token)
        self.at += 1
        return token

    def keyword(self, word: str) -> Token:
        token = self.take()
        if token.word != word:
            raise _unexpected(self.soql, token)
        return token

    def at_keyword(self, *words: str) -> bool:
        token = self.peek()
        return token is not None and token.word in words

    def punct(self, char: str) -> None:
        token = self.take()
        if token.text != char:
            raise _unexpected(self.soql, token)

    def path(self) -> Path:
        token = self.take()
        if token.kind != "name" or token.word in _KEYWORDS:
            raise _unexpected(self.soql, token)
        return Path(tuple(token.text.split(".")), token)

    def query(self) -> Query:
        self.keyword("SELECT")
        fields = [self.path()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            fields.append(self.path())
        self.keyword("FROM")
        sobject = self.take()
        if sobject.kind != "name" or "." in sobject.text or sobject.word in _KEYWORDS:
            raise _unexpected(self.soql, sobject)
        where = self.conditions() if self.at_keyword("WHERE") else ()
        order = self.order() if self.at_keyword("ORDER") else ()
        limit = self.limit() if self.at_keyword("LIMIT") else None
        if self.peek() is not None:
            raise _unexpected(self.soql, self.peek())
        return Query(sobject, tuple(fields), where, order, limit)

    def conditions(self) -> tuple[Condition, ...]:
        self.keyword("WHERE")
        found = [self.condition()]
        while self.at_keyword("AND"):
            self.take()
            found.append(self.condition())
        return tuple(found)

    def condition(self) -> Condition:
        path = self.path()
        token = self.take()
        if token.word == "IN":
            self.punct("(")
            literals = [self.literal()]
            while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
                self.take()
                literals.append(self.literal())
            self.punct(")")
            return Condition(path, "IN", tuple(literals))
        if token.kind != "op":
            raise _unexpected(self.soql, token)
        op = "!=" if token.text == "<>" else token.text
        return Condition(path, op, (self.literal(),))

    def literal(self) -> Token:
        token = self.take()
        if token.kind in ("string", "datetime", "date", "number"):
            return token
        if token.word in ("TRUE", "FALSE", "NULL"):
            return token
        raise _unexpected(self.soql, token)

    def order(self) -> tuple[OrderKey, ...]:
        self.keyword("ORDER")
        self.keyword("BY")
        keys = [self.order_key()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            keys.append(self.order_key())
        return tuple(keys)

    def order_key(self) -> OrderKey:
        path = self.path()
        ascending = True
        if self.at_keyword("ASC", "DESC"):
            ascending = self.take().word == "ASC"
        nulls_first = ascending
        if self.at_keyword("NULLS"):
            self.take()
            word = self.take()
            if word.word not in ("FIRST", "LAST"):
                raise _unexpected(self.soql, word)
            nulls_first = word.word == "FIRST"
        return OrderKey(path, ascending, nulls_first)

    def limit(self) -> int:
        self.keyword("LIMIT")
        token = self.take()
        if token.kind != "number" or not token.text.isdigit():
            raise _unexpected(self.soql, token)
        return int(token.text)


def parse(soql: str) -> Query:
    if len(soql) > MAX_QUERY_CHARS:
        raise SoqlError("MALFORMED_QUERY", "Query is too long; maximum length is 100000.")
    return _Parser(soql).query()


# --- running ------------------------------------------------------------------------------
def run(org: SalesforceOrg, soql: str, version: str) -> list[dict[str, Any]]:
    """Every record the query selects, rendered as the REST API renders them."""
    query = parse(soql)
    sobject = _sobject(org, soql, query.sobject)
    fields = [_resolve(org, soql, sobject, path) for path in query.fields]
    names = [f.name.lower() for f in fields]
    for n, name in enumerate(names):
        if name in names[:n]:
            text = f"duplicate field selected: {fields[n].name}"
            raise SoqlError("MALFORMED_QUERY", located(soql, query.fields[n].token.pos, text))
    tests = [_test(org, soql, sobject, condition) for condition in query.where]
    rows = [r for r in org.records[sobject].values() if all(t(r) for t in tests)]
    rows.sort(key=lambda r: r["Id"])  # Salesforce's order for ties is its own; this is stable
    for key in reversed(query.order):
        rows = _ordered(org, soql, sobject, rows, key)
    if query.limit is not None:
        rows = rows[: query.limit]
    return [render(org, sobject, row, fields, version) for row in rows]


def _sobject(org: SalesforceOrg, soql: str, token: Token) -> str:
    for name in org.schema:
        if name.lower() == token.text.lower():
            return name
    text = (
        f"sObject type '{token.text}' is not supported. If you are attempting to use a custom "
        "object, be sure to append the '__c' after the entity name. Please reference your WSDL "
        "or the describe call for the appropriate names."
    )
    raise SoqlError("INVALID_TYPE", located(soql, token.pos, text))


def _no_column(soql: str, token: Token, column: str, sobject: str) -> SoqlError:
    text = (
        f"No such column '{column}' on entity '{sobject}'. If you are attempting to use a "
        "custom field, be sure to append the '__c' after the custom field name. Please "
        "reference your WSDL or the describe call for the appropriate names."
    )
    return SoqlError("INVALID_FIELD", located(soql, token.pos, text))


def _resolve(org: SalesforceOrg, soql: str, sobject: str, path: Path) -> Resolved:
    if len(path.parts) == 1:
        field = org.field_def(sobject, path.parts[0])
        if field is None:
            raise _no_column(soql, path.token, path.parts[0], sobject)
        return Resolved(field.name, field)
    if len(path.parts) > 2:
        text = f"the sandbox answers one parent level, not '{path.token.text}'"
        raise SoqlError("MALFORMED_QUERY", located(soql, path.token.pos, text))
    via = org.relationship_def(sobject, path.parts[0])
    if via is None or via.reference_to is None:
        text = (
            f"Didn't understand relationship '{path.parts[0]}' in field path. If you are "
            "attempting to use a custom relationship, be sure to append the '__r' after the "
            "custom relationship name. Please reference your WSDL or the describe call for "
            "the appropriate names."
        )
        raise SoqlError("INVALID_FIELD", located(soql, path.token.pos, text))
    field = org.field_def(via.reference_to, path.parts[1])
    if field is None:
        raise _no_column(soql, path.token, path.parts[1], via.reference_to)
    return Resolved(f"{via.relationship}.{field.name}", field, via)


def _value(org: SalesforceOrg, row: dict[str, Any], resolved: Resolved) -> Any:
    if resolved.via is None:
        return row.get(resolved.field.name)
    parent_id = row.get(resolved.via.name)
    parent = org.records[resolved.via.reference_to or ""].get(parent_id or "")
    return None if parent is None else parent.get(resolved.field.name)


def _literal(soql: str, field: FieldDef, token: Token) -> Any:
    if token.word == "NULL":
        return None
    kind = field.type
    wanted = {"boolean": "name", "datetime": "datetime", "date": "date"}.get(kind)
    if kind in ("currency", "double"):
        wanted = "number"
    if kind in _TEXT_TYPES:
        wanted = "string"
    if token.kind != wanted or (kind == "boolean" and token.word not in ("TRUE", "FALSE")):
        if kind in _TEXT_TYPES:
            shape = "must be of type string and should be enclosed in quotes"
        else:
            shape = f"must be of type {_TYPE_NAMES[kind]} and should not be enclosed in quotes"
        text = f"value of filter criterion for field '{field.name}' {shape}"
        raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", located(soql, token.pos, text))
    return _convert(soql, field, token)


def _convert(soql: str, field: FieldDef, token: Token) -> Any:
    kind = field.type
    if kind == "boolean":
        return token.word == "TRUE"
    if kind in ("currency", "double"):
        return Decimal(token.text)
    try:
        if kind == "datetime":
            return datetime.fromisoformat(token.text.replace("Z", "+00:00")).astimezone(UTC)
        if kind == "date":
            return date.fromisoformat(token.text)
    except ValueError:
        raise SoqlError(
            "MALFORMED_QUERY", located(soql, token.pos, f"invalid date: {token.text}")
        ) from None
    text = _unquote(soql, token)
    if kind in ("id", "reference"):
        full = canonical(text)
        if full is None:
            message = located(soql, token.pos, f"invalid ID field: {text}")
            raise SoqlError("INVALID_QUERY_FILTER_OPERATOR", message)
        return full
    return text


def _unquote(soql: str, token: Token) -> str:
    body = token.text[1:-1]
    out = []
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            escaped = body[index + 1]
            if escaped not in _ESCAPES:
                text = (
                    f"Invalid string literal '{body}'. Illegal character sequence"
                    f" '\\{escaped}' in string literal."
                )
                raise SoqlError("MALFORMED_QUERY", located(soql, token.pos, text))
            out.append(_ESCAPES[escaped])
            index += 2
        else:
            out.append(char)
            index += 1
    return "".join(out)


def _comparable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _test(org: SalesforceOrg, soql: str, sobject: str, condition: Condition) -> Any:
    resolved = _resolve(org, soql, sobject, condition.path)
    field = resolved.field
    values = [_literal(soql, field, token) for token in condition.literals]
    op = condition.op
    if field.type == "boolean" and op not in ("=", "!="):
        text = f"invalid operator on boolean field: {op}"
        raise SoqlError(
            "INVALID_QUERY_FILTER_OPERATOR", located(soql, condition.path.token.pos, text)
        )
    if op == "IN" and field.type not in _TEXT_TYPES:
        text = f"invalid operator on {field.type} field: IN"
        raise SoqlError(
            "INVALID_QUERY_FILTER_OPERATOR", located(soql, condition.path.token.pos, text)
        )
    wanted = [_comparable(v) for v in values]

    def test(row: dict[str, Any]) -> bool:
        actual = _comparable(_value(org, row, resolved))
        if op == "IN":
            return actual is not None and actual in wanted
        other = wanted[0]
        if op == "=":
            return actual == other
        if op == "!=":
            return actual != other
        if actual is None or other is None:
            return False
        return {
            "<": actual < other,
            "<=": actual <= other,
            ">": actual > other,
            ">=": actual >= other,
        }[op]

    return test


def _ordered(
    org: SalesforceOrg, soql: str, sobject: str, rows: list[dict[str, Any]], key: OrderKey
) -> list[dict[str, Any]]:
    if len(key.path.parts) != 1:
        text = "the sandbox orders by a field of the object itself"
        raise SoqlError("MALFORMED_QUERY", located(soql, key.path.token.pos, text))
    resolved = _resolve(org, soql, sobject, key.path)
    present = [r for r in rows if _value(org, r, resolved) is not None]
    absent = [r for r in rows if _value(org, r, resolved) is None]
    # Text sorts without regard to case; ids are case-sensitive and sort as written.
    exact = resolved.field.type in ("id", "reference")
    present.sort(
        key=lambda r: _value(org, r, resolved) if exact else _comparable(_value(org, r, resolved)),
        reverse=not key.ascending,
    )
    return absent + present if key.nulls_first else present + absent


# --- rendering ------------------------------------------------------------------------------
def json_value(field: FieldDef, value: Any) -> Any:
    if value is None:
        return None
    if field.type in ("currency", "double"):
        return float(value)
    if field.type == "datetime":
        instant = value.astimezone(UTC)
        return f"{instant:%Y-%m-%dT%H:%M:%S}.{instant.microsecond // 1000:03d}+0000"
    if field.type == "date":
        return value.isoformat()
    return value


def attributes(sobject: str, record_id: str, version: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}


def render(
    org: SalesforceOrg,
    sobject: str,
    row: dict[str, Any],
    fields: list[Resolved],
    version: str,
) -> dict[str, Any]:
    out: dict[str, Any] = {"attributes": attributes(sobject, row["Id"], version)}
    for resolved in fields:
        if resolved.via is None:
            out[resolved.field.name] = json_value(resolved.field, row.get(resolved.field.name))
            continue
        name = resolved.via.relationship or ""
        target = resolved.via.reference_to or ""
        parent = org.records[target].get(row.get(resolved.via.name) or "")
        if parent is None:
            out[name] = None
            continue
        nested = out.setdefault(name, {"attributes": attributes(target, parent["Id"], version)})
        nested[resolved.field.name] = json_value(resolved.field, parent.get(resolved.field.name))
    return out


def resolve_fields(org: SalesforceOrg, sobject: str, names: list[str]) -> list[Resolved]:
    """Field paths (`Name`, `Owner.Email`) of `sobject`, for rendering outside a query."""
    soql = ", ".join(names)
    resolved = []
    for token in tokens(soql):
        if token.kind == "name":
            resolved.append(_resolve(org, soql, sobject, Path(tuple(token.text.split(".")), token)))
    return resolved
