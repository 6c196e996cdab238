"""A Salesforce org's state: its schema, its users, accounts and opportunities, and the
helpers tests use to create and change them (as a person editing a record would, so a
change moves LastModifiedDate and SystemModstamp)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bot.sandbox.salesforce.ids import canonical, new_id

KEY_PREFIX = {"User": "005", "Account": "001", "Opportunity": "006"}
# A stage's IsClosed and IsWon, as the default Opportunity stage picklist defines them.
STAGES: dict[str, tuple[bool, bool]] = {
    "Prospecting": (False, False),
    "Qualification": (False, False),
    "Needs Analysis": (False, False),
    "Value Proposition": (False, False),
    "Id. Decision Makers": (False, False),
    "Perception Analysis": (False, False),
    "Proposal/Price Quote": (False, False),
    "Negotiation/Review": (False, False),
    "Closed Won": (True, True),
    "Closed Lost": (True, False),
}
SYSTEM_FIELDS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


@dataclass(frozen=True)
class FieldDef:
    name: str
    type: str  # id, string, email, picklist, currency, double, date, datetime, boolean, reference
    reference_to: str | None = None
    relationship: str | None = None  # the parent's name in a query: Owner, Account, CSM__r
    updateable: bool = True


def _standard_schema() -> dict[str, dict[str, FieldDef]]:
    def fields(*defs: FieldDef) -> dict[str, FieldDef]:
        system = [FieldDef(name, "datetime", updateable=False) for name in SYSTEM_FIELDS]
        every = [FieldDef("Id", "id", updateable=False), *defs, *system]
        return {d.name.lower(): d for d in every}

    owner = FieldDef("OwnerId", "reference", "User", "Owner")
    return {
        "User": fields(
            FieldDef("Name", "string"),
            FieldDef("Email", "email"),
            FieldDef("Username", "string"),
            FieldDef("IsActive", "boolean"),
        ),
        "Account": fields(FieldDef("Name", "string"), owner),
        "Opportunity": fields(
            FieldDef("Name", "string"),
            FieldDef("Amount", "currency"),
            FieldDef("CloseDate", "date"),
            FieldDef("StageName", "picklist"),
            FieldDef("IsClosed", "boolean", updateable=False),
            FieldDef("IsWon", "boolean", updateable=False),
            owner,
            FieldDef("AccountId", "reference", "Account", "Account"),
            FieldDef("Renewal_Date__c", "date"),
            FieldDef("CSM__c", "reference", "User", "CSM__r"),
        ),
    }


@dataclass
class Cursor:
    """A query's results, kept for nextRecordsUrl (Salesforce keeps a locator 15 minutes
    after its last use)."""

    records: list[dict[str, Any]]
    version: str
    last_used: datetime


@dataclass
class SalesforceOrg:
    organization_id: str = field(default_factory=lambda: new_id("00D"))
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def __post_init__(self) -> None:
        self.access_token = f"{self.organization_id[:15]}!{secrets.token_urlsafe(48)}"
        self.schema = _standard_schema()
        self.records: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in self.schema}
        self.cursors: dict[str, Cursor] = {}

    # --- schema -------------------------------------------------------------------------
    def add_field(
        self,
        sobject: str,
        name: str,
        type: str,
        reference_to: str | None = None,
    ) -> None:
        """A custom field (its name ends in __c); a reference's relationship is name__r."""
        if not name.endswith("__c"):
            raise ValueError("custom field names end in __c")
        relationship = name[:-3] + "__r" if type == "reference" else None
        self.schema[sobject][name.lower()] = FieldDef(name, type, reference_to, relationship)

    def field_def(self, sobject: str, name: str) -> FieldDef | None:
        return self.schema.get(sobject, {}).get(name.lower())

    def relationship_def(self, sobject: str, name: str) -> FieldDef | None:
        lowered = name.lower()
        for definition in self.schema.get(sobject, {}).values():
            if definition.relationship and definition.relationship.lower() == lowered:
                return definition
        return None

    # --- records ------------------------------------------------------------------------
    def now(self) -> datetime:
        instant = self.clock().astimezone(UTC)
        return instant.replace(microsecond=instant.microsecond // 1000 * 1000)

    def add_user(self, name: str, email: str, *, at: datetime | None = None) -> str:
        return self._create(
            "User", {"Name": name, "Email": email, "Username": email, "IsActive": True}, at
        )

    def add_account(
        self, name: str, *, owner_id: str | None = None, at: datetime | None = None
    ) -> str:
        return self._create("Account", {"Name": name, "OwnerId": owner_id}, at)

    def add_opportunity(
        self,
        name: str,
        *,
        owner_id: str,
        close_date: date,
        amount: Decimal | int | str | None = None,
        stage_name: str = "Prospecting",
        account_id: str | None = None,
        at: datetime | None = None,
        **custom: Any,
    ) -> str:
        values = {
            "Name": name,
            "Amount": amount,
            "CloseDate": close_date,
            "StageName": stage_name,
            "OwnerId": owner_id,
            "AccountId": account_id,
            **custom,
        }
        return self._create("Opportunity", values, at)

    def change(self, record_id: str, *, at: datetime | None = None, **values: Any) -> None:
        """Edit a record as a person would: the values are checked against the field types,
        a new StageName sets IsClosed and IsWon, and the record's LastModifiedDate and
        SystemModstamp become `at` (default: now)."""
        sobject, record = self._find(record_id)
        checked = {name: self._checked(sobject, name, value) for name, value in values.items()}
        self._apply(sobject, record, checked)
        stamp = self._stamp(at)
        record["LastModifiedDate"] = record["SystemModstamp"] = stamp

    def record(self, record_id: str) -> dict[str, Any]:
        return dict(self._find(record_id)[1])

    def sobject_of(self, record_id: str) -> str:
        return self._find(record_id)[0]

    def _create(self, sobject: str, values: Mapping[str, Any], at: datetime | None) -> str:
        record: dict[str, Any] = {d.name: None for d in self.schema[sobject].values()}
        checked = {name: self._checked(sobject, name, value) for name, value in values.items()}
        record["Id"] = new_id(KEY_PREFIX[sobject])
        self._apply(sobject, record, checked)
        stamp = self._stamp(at)
        record["CreatedDate"] = record["LastModifiedDate"] = record["SystemModstamp"] = stamp
        self.records[sobject][record["Id"]] = record
        return record["Id"]

    def _apply(self, sobject: str, record: dict[str, Any], values: Mapping[str, Any]) -> None:
        record.update(values)
        if sobject == "Opportunity" and "StageName" in values:
            record["IsClosed"], record["IsWon"] = STAGES[values["StageName"]]

    def _stamp(self, at: datetime | None) -> datetime:
        if at is None:
            return self.now()
        instant = at.astimezone(UTC)
        return instant.replace(microsecond=instant.microsecond // 1000 * 1000)

    def _find(self, record_id: str) -> tuple[str, dict[str, Any]]:
        full = canonical(record_id)
        for sobject, records in self.records.items():
            if full in records:
                return sobject, records[full]
        raise KeyError(f"no record {record_id!r} in this org")

    def _checked(self, sobject: str, name: str, value: Any) -> Any:
        definition = self.field_def(sobject, name)
        if definition is None:
            raise ValueError(f"No such column '{name}' on entity '{sobject}'")
        if not definition.updateable:
            raise ValueError(f"{sobject}.{definition.name} is not writeable")
        if value is None:
            return None
        return _typed(self, definition, value)


def _typed(org: SalesforceOrg, definition: FieldDef, value: Any) -> Any:
    kind = definition.type
    if kind in ("string", "email"):
        return str(value)
    if kind == "picklist":
        if value not in STAGES:
            raise ValueError(f"bad value for restricted picklist field: {value}")
        return value
    if kind in ("currency", "double"):
        return Decimal(str(value))
    if kind == "date":
        if isinstance(value, datetime) or not isinstance(value, date):
            raise ValueError(f"{definition.name} takes a date")
        return value
    if kind == "datetime":
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"{definition.name} takes an aware datetime")
        return value.astimezone(UTC)
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError(f"{definition.name} takes a boolean")
        return value
    if kind == "reference":
        full = canonical(value)
        target = definition.reference_to or ""
        if full is None or full not in org.records.get(target, {}):
            raise ValueError(f"id value of incorrect type: {value}")
        return full
    raise ValueError(f"unknown field type {kind}")
