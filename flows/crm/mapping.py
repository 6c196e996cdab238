"""The CRM mapping (`BATON_CRM_MAPPING`, `flows/crm/mapping.toml` by default): which CRM
property is which closed-won field, which stage means closed-won, and an export's columns.

Loaded and checked once at start: a bad file stops Baton with one sentence naming the
file, the key and the fix, rather than misreading every deal later.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Sequence
from collections.abc import Mapping as MappingOf
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from flows.crm.values import amount_text, day_text, instant_text

DEFAULT_PATH = Path(__file__).with_name("mapping.toml")
CRMS = ("hubspot", "salesforce")
CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce"}  # as people write them
# Baton's closed-won fields (flows.intake) by how a CRM's value is read.
AMOUNTS = ("arr",)
DAYS = ("contract_start", "renewal_date")
INSTANTS = ("updated_at",)
FIELDS = (
    "crm_id",
    "account_name",
    "arr",
    "currency",
    "contract_start",
    "renewal_date",
    "term_months",
    "ae_email",
    "csm_email",
    "am_email",
    "ops_email",
    "manager_email",
    "champion_email",
    "crm_url",
    "segment",
    "updated_at",
)
EMAILS = tuple(name for name in FIELDS if name.endswith("_email"))
REQUIRED = ("crm_id", "account_name", "ae_email", "csm_email")
SECTION_KEYS = ("term_months", "day_first", "crm_url", "closed_won", "fields", "columns")
_HUBSPOT_NAME = re.compile(r"^[A-Za-z0-9_]{1,100}$")
_SALESFORCE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}(\.[A-Za-z][A-Za-z0-9_]{0,79})?$")
_PREFIXES = {"hubspot": ("owner", "company"), "salesforce": ()}
_TEMPLATE_KEYS = {"crm_id", "portal_id", "instance_url"}


class MappingError(ValueError):
    """A mapping Baton cannot use; the message is one sentence naming file, key and fix."""


@dataclass(frozen=True)
class Source:
    """Where a CRM keeps a value: a property of the deal (`kind` "property"), the email of
    the owner whose id a property holds ("owner"), or the associated company's ("company")."""

    kind: str
    name: str


@dataclass(frozen=True)
class CrmMapping:
    crm: str
    fields: dict[str, tuple[Source, ...]]
    columns: dict[str, tuple[str, ...]]
    closed_won_property: str
    closed_won_values: frozenset[str]
    term_months: int | None
    day_first: bool
    crm_url: str | None

    def properties(self) -> list[str]:
        """Every deal property to ask the CRM for (owner-id properties included)."""
        names = [s.name for sources in self.fields.values() for s in sources if s.kind != "company"]
        return sorted({*names, self.closed_won_property})

    def company_properties(self) -> list[str]:
        return sorted({s.name for v in self.fields.values() for s in v if s.kind == "company"})

    def is_closed_won(self, properties: MappingOf[str, Any]) -> bool:
        value = properties.get(self.closed_won_property)
        return value is not None and str(value).strip().lower() in self.closed_won_values

    def body(
        self, resolve: Callable[[Source], Any], link: MappingOf[str, str] | None = None
    ) -> dict[str, Any]:
        """The closed-won body (Baton's field names, values as `parse_closed_won` reads
        them) of a deal whose sources `resolve` reads; `link` fills `crm_url`'s template."""
        raw: dict[str, Any] = {}
        for name, sources in self.fields.items():
            for source in sources:
                value = resolve(source)
                if _present(value):
                    raw[name] = value
                    break
        body = normalise(raw, self.day_first, self.term_months)
        if "crm_url" not in body and self.crm_url and "crm_id" in body:
            body["crm_url"] = _link(self.crm_url, {**(link or {}), "crm_id": str(body["crm_id"])})
        return {k: v for k, v in body.items() if v is not None}


@dataclass(frozen=True)
class Layout:
    """Which column of a CSV holds each Baton field: Baton's own names, or an export's."""

    name: str
    columns: dict[str, str]  # Baton field → the header's column
    day_first: bool = False
    term_months: int | None = None

    def body(self, row: MappingOf[str, str]) -> dict[str, Any]:
        raw = {field: row.get(column) for field, column in self.columns.items()}
        raw = {k: v for k, v in raw.items() if _present(v)}
        body = normalise(raw, self.day_first, None if self.name == "baton" else self.term_months)
        return {k: v for k, v in body.items() if v is not None}

    def column(self, field: str) -> str:
        return self.columns.get(field, field)


@dataclass(frozen=True)
class Mapping:
    hubspot: CrmMapping
    salesforce: CrmMapping
    path: str

    def of(self, crm: str) -> CrmMapping:
        return self.hubspot if crm == "hubspot" else self.salesforce

    def import_layout(self, header: Sequence[str]) -> Layout | str:
        """The layout of a CSV with this header, or one sentence of why none fits."""
        present = {_header_key(h): h for h in header if isinstance(h, str)}
        own = {f: present[f] for f in FIELDS if f in present}
        if all(f in own for f in REQUIRED):
            return Layout("baton", own)
        best: tuple[str, list[str]] | None = None
        for crm in (self.hubspot, self.salesforce):
            columns = _found_columns(crm, present)
            missing = [crm.columns[f][0] for f in REQUIRED if f not in columns and f in crm.columns]
            missing += [f for f in REQUIRED if f not in crm.columns]
            if not missing:
                return Layout(crm.crm, columns, crm.day_first, crm.term_months)
            if best is None or len(missing) < len(best[1]):
                best = (crm.crm, missing)
        lacking = [f for f in REQUIRED if f not in own]
        crm_name, crm_missing = best or ("", [])
        return (
            f"The header matches no layout Baton knows: Baton's own columns lack "
            f"{_quoted(lacking)}, and the closest CRM export ({_title(crm_name)}, by the "
            f"mapping {self.path}) lacks {_quoted(crm_missing)}."
        )


def normalise(raw: dict[str, Any], day_first: bool, term_months: int | None) -> dict[str, Any]:
    """Raw CRM values → what `parse_closed_won` reads: amounts and days in plain form, a
    currency code the amount carried, and the default term when neither renewal date nor
    term is given."""
    body = dict(raw)
    for name in AMOUNTS:
        if name in body:
            body[name], code = amount_text(body[name])
            if code and not _present(body.get("currency")):
                body["currency"] = code
    for name in DAYS:
        if name in body:
            body[name] = day_text(body[name], day_first=day_first)
    for name in INSTANTS:
        if name in body:
            body[name] = instant_text(body[name])
    for name in EMAILS:
        if isinstance(body.get(name), str):
            body[name] = body[name].strip()
    if isinstance(body.get("term_months"), str):
        months = body["term_months"].strip()
        body["term_months"] = int(months) if months.isdigit() and len(months) < 5 else months
    if term_months and "renewal_date" not in body and "term_months" not in body:
        body["term_months"] = term_months
    return body


def load_mapping(path: str | Path | None = None) -> Mapping:
    """The mapping: Baton's default, with what the file at `path` (if any) sets over it."""
    return _default_mapping() if path is None else _load(path)


@cache
def _default_mapping() -> Mapping:
    return _load(None)


def _load(path: str | Path | None) -> Mapping:
    default = _read(DEFAULT_PATH)
    data = default if path is None else _merged(default, _read(Path(path)))
    shown = str(path) if path is not None else str(DEFAULT_PATH)
    unknown = sorted(set(data) - set(CRMS))
    if unknown:
        raise MappingError(
            f"{shown}: {unknown[0]} is not a CRM Baton knows; use [hubspot] or [salesforce]."
        )
    return Mapping(*(_crm(shown, crm, data[crm]) for crm in CRMS), path=shown)


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MappingError(
            f"{path}: no such file; set BATON_CRM_MAPPING to a mapping file's path."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise MappingError(
            f"{path}: cannot be read ({type(error).__name__}); check the file's permissions and that it is UTF-8."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError(f"{path}: is not valid TOML ({error}); fix that line.") from None


def _merged(default: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = {crm: dict(section) for crm, section in default.items()}
    for crm, section in override.items():
        if not isinstance(section, dict) or crm not in merged:
            merged[crm] = section
            continue
        for key, value in section.items():
            if key in ("fields", "columns", "closed_won") and isinstance(value, dict):
                merged[crm][key] = {**merged[crm].get(key, {}), **value}
            else:
                merged[crm][key] = value
    return merged


def _crm(path: str, crm: str, section: Any) -> CrmMapping:
    where = f"{path}: {crm}"
    if not isinstance(section, dict):
        raise MappingError(f"{where} must be a table; write it as [{crm}].")
    for key in section:
        if key not in SECTION_KEYS:
            raise MappingError(
                f"{where}.{key} is not a mapping key; use one of {', '.join(SECTION_KEYS)}."
            )
    fields = _fields(where, crm, section.get("fields", {}))
    columns = _columns(where, section.get("columns", {}))
    won = section.get("closed_won", {})
    if not isinstance(won, dict) or not isinstance(won.get("property"), str):
        raise MappingError(
            f'{where}.closed_won must name a property, such as property = "dealstage".'
        )
    values = won.get("values")
    if not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values):
        raise MappingError(
            f'{where}.closed_won.values must be a list of stage values, such as ["closedwon"].'
        )
    _check_name(f"{where}.closed_won.property", crm, won["property"])
    return CrmMapping(
        crm=crm,
        fields=fields,
        columns=columns,
        closed_won_property=won["property"],
        closed_won_values=frozenset(v.strip().lower() for v in values),
        term_months=_term(where, section.get("term_months", 12)),
        day_first=_flag(where, section.get("day_first", False)),
        crm_url=_template(where, section.get("crm_url")),
    )


def _fields(where: str, crm: str, table: Any) -> dict[str, tuple[Source, ...]]:
    if not isinstance(table, dict):
        raise MappingError(f"{where}.fields must be a table of Baton field = CRM property.")
    fields: dict[str, tuple[Source, ...]] = {}
    for name, value in table.items():
        key = f"{where}.fields.{name}"
        if name not in FIELDS:
            raise MappingError(f"{key} is not a Baton field; use one of {', '.join(FIELDS)}.")
        sources = [_source(key, crm, text) for text in _texts(key, value)]
        if sources:
            fields[name] = tuple(sources)
    for name in REQUIRED:
        if name not in fields:
            raise MappingError(
                f"{where}.fields.{name} is required; name the CRM property it comes from."
            )
    return fields


def _columns(where: str, table: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(table, dict):
        raise MappingError(f"{where}.columns must be a table of Baton field = column header.")
    columns: dict[str, tuple[str, ...]] = {}
    for name, value in table.items():
        key = f"{where}.columns.{name}"
        if name not in FIELDS:
            raise MappingError(f"{key} is not a Baton field; use one of {', '.join(FIELDS)}.")
        headers = tuple(text.strip() for text in _texts(key, value))
        if any(not h or len(h) > 200 for h in headers):
            raise MappingError(f"{key} must be column headers of 1 to 200 characters.")
        if headers:
            columns[name] = headers
    return columns


def _texts(key: str, value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) for v in values) or len(values) > 10:
        raise MappingError(f'{key} must be a name or a list of up to 10 names, such as "amount".')
    return [v for v in values if v.strip()]


def _source(key: str, crm: str, text: str) -> Source:
    prefix, colon, name = text.strip().partition(":")
    if colon:
        if prefix not in _PREFIXES[crm]:
            allowed = " or ".join(f'"{p}:"' for p in _PREFIXES[crm]) or "no prefix"
            raise MappingError(f"{key}: {prefix}: is not a source {crm} has; use {allowed}.")
        _check_name(key, crm, name)
        if prefix == "company" and name != "name":
            raise MappingError(
                f'{key}: Baton reads the company\'s name only; write "company:name".'
            )
        return Source(prefix, name)
    _check_name(key, crm, prefix)
    return Source("property", prefix)


def _check_name(key: str, crm: str, name: str) -> None:
    pattern = _HUBSPOT_NAME if crm == "hubspot" else _SALESFORCE_NAME
    if not pattern.match(name):
        example = "renewal_date" if crm == "hubspot" else "Renewal_Date__c or Owner.Email"
        raise MappingError(
            f'{key}: "{name}" is not a {_title(crm)} property name; write it as the API name, such as {example}.'
        )


def _term(where: str, value: Any) -> int | None:
    if value is None or (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 120
    ):
        return value
    raise MappingError(f"{where}.term_months must be a whole number of months from 1 to 120.")


def _flag(where: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise MappingError(f"{where}.day_first must be true or false.")


def _template(where: str, value: Any) -> str | None:
    if value is None or value == "":
        return None
    keys = set(re.findall(r"{([^{}]*)}", value)) if isinstance(value, str) else {"?"}
    if (
        not isinstance(value, str)
        or not value.startswith(("https://", "{instance_url}"))
        or keys - _TEMPLATE_KEYS
    ):
        raise MappingError(
            f"{where}.crm_url must be an https link; it may use {{crm_id}}, {{portal_id}} and {{instance_url}}."
        )
    return value


def _found_columns(crm: CrmMapping, present: dict[str, str]) -> dict[str, str]:
    found = {}
    for name, headers in crm.columns.items():
        for header in headers:
            if _header_key(header) in present:
                found[name] = present[_header_key(header)]
                break
    return found


def _link(template: str, values: MappingOf[str, str]) -> str | None:
    try:
        return template.format_map(dict(values))
    except (KeyError, ValueError):
        return None  # the door did not know a value the template needs


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _header_key(header: str) -> str:
    return header.strip().lstrip("\ufeff").casefold()


def _quoted(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in names) or "nothing"


def _title(crm: str) -> str:
    return CRM_NAMES.get(crm, crm)
