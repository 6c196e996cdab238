"""Baton's Salesforce client: the won opportunities changed since a moment, and users'
emails, over the REST query resource with simple-salesforce.

The calls are synchronous (requests); callers run them in a worker thread. Every failure
is one `SalesforceError`: a sentence for a person, and how long to wait before trying
again when waiting helps (None when it will not, e.g. a revoked token or an unknown
field). The SOQL is built only from validated field names, validated ids and a formatted
dateTime literal: nothing anyone typed reaches the query unchecked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import (
    SalesforceError as LibraryError,
)
from simple_salesforce.exceptions import (
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from bot.crm.salesforce_error import SalesforceError
from flows.crm.salesforce import id18

FIELD_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)?$")
_VERSION = re.compile(r"[1-9][0-9]\.0")
MAX_FIELDS = 100  # keeps the query's URI far below Salesforce's 16,384 bytes
USER_IDS_PER_QUERY = 50  # an IN list that keeps the URI under the advised 2,000 characters
TIMEOUT_S = 30.0
RETRY_LATER_S = 60.0
RETRY_TOMORROW_S = 3600.0  # the daily API budget is a rolling 24 hours: look again hourly
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_SENTENCE = re.compile(r"[\x00-\x1f\x7f]+")


def soql_datetime(moment: datetime) -> str:
    """A SOQL dateTime literal (`2025-01-31T09:30:00Z`, never quoted), in UTC and whole
    seconds rounded down, so `> literal` never skips a record of that second. A naive
    moment is taken as UTC."""
    instant = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    instant = max(instant.astimezone(UTC), _EARLIEST)
    return (
        f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}"
        f"T{instant.hour:02d}:{instant.minute:02d}:{instant.second:02d}Z"
    )


def select_list(fields: Sequence[str]) -> str:
    """The fields to select, Id and LastModifiedDate always among them, each name checked
    and none twice (SOQL names are case-insensitive)."""
    chosen: list[str] = []
    seen: set[str] = set()
    for name in ("Id", "LastModifiedDate", *fields):
        if not isinstance(name, str) or not FIELD_PATH.fullmatch(name):
            raise SalesforceError(f"{_shown(name)} is not a Salesforce field name.")
        if name.lower() not in seen:
            seen.add(name.lower())
            chosen.append(name)
    if len(chosen) > MAX_FIELDS:
        raise SalesforceError(f"Baton reads at most {MAX_FIELDS} Salesforce fields at once.")
    return ", ".join(chosen)


def _shown(value: object) -> str:
    text = _NOT_SENTENCE.sub(" ", str(value))
    return repr(text if len(text) <= 60 else text[:57] + "...")


class SalesforceApi:
    def __init__(
        self,
        instance_url: str,
        access_token: str,
        version: str = "59.0",
        *,
        session: requests.Session | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        parts = urlsplit(instance_url) if isinstance(instance_url, str) else None
        if parts is None or parts.scheme != "https" or not parts.hostname:
            raise SalesforceError("The Salesforce instance URL must be an https:// address.")
        if not isinstance(access_token, str) or not access_token.strip():
            raise SalesforceError("Baton has no Salesforce access token: connect Salesforce.")
        if not isinstance(version, str) or not _VERSION.fullmatch(version):
            raise SalesforceError(f"{_shown(version)} is not a Salesforce API version.")
        self.timeout_s = timeout_s
        self._sf = Salesforce(
            instance_url=instance_url,
            session_id=access_token.strip(),
            version=version,
            session=session,
            parse_float=Decimal,
            object_pairs_hook=dict,
        )

    @property
    def api_usage(self) -> tuple[int, int] | None:
        """(requests used, daily limit) as Salesforce's last answer reported them
        (`Sforce-Limit-Info`), or None before any answer."""
        usage = self._sf.api_usage.get("api-usage")
        return None if usage is None else (usage.used, usage.total)

    def close(self) -> None:
        """Close the HTTP connections this client keeps open."""
        self._sf.session.close()

    def __enter__(self) -> SalesforceApi:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def changed_since(self, since: datetime, fields: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Won opportunities whose LastModifiedDate is after `since`, oldest change first,
        every page of them, with `fields` (`Name`, `Owner.Email`, `Renewal_Date__c`...)."""
        soql = (
            f"SELECT {select_list(fields)} FROM Opportunity"
            f" WHERE IsWon = true AND LastModifiedDate > {soql_datetime(since)}"
            " ORDER BY LastModifiedDate ASC, Id ASC"
        )
        return self._records(soql)

    def user_emails(self, user_ids: Sequence[str]) -> dict[str, str]:
        """Each user's email, keyed by the id as given (15 or 18 characters); a user
        Salesforce does not return, or one without an email, is left out."""
        wanted: dict[str, list[str]] = {}
        for user_id in user_ids:
            full = id18(user_id)
            if full is None or not full.startswith("005"):
                raise SalesforceError(f"{_shown(user_id)} is not a Salesforce user id.")
            wanted.setdefault(full, []).append(user_id)
        emails: dict[str, str] = {}
        ids = list(wanted)
        for start in range(0, len(ids), USER_IDS_PER_QUERY):
            chunk = ids[start : start + USER_IDS_PER_QUERY]
            quoted = ", ".join(f"'{user_id}'" for user_id in chunk)
            for record in self._records(f"SELECT Id, Email FROM User WHERE Id IN ({quoted})"):
                full, email = id18(record.get("Id")), record.get("Email")
                if full in wanted and isinstance(email, str) and email:
                    for given in wanted[full]:
                        emails[given] = email
        return emails

    def _records(self, soql: str) -> Iterator[dict[str, Any]]:
        try:
            for record in self._sf.query_all_iter(soql, timeout=self.timeout_s):
                if not isinstance(record, dict):
                    raise SalesforceError("Salesforce answered a query with a malformed record.")
                yield record
        except LibraryError as error:
            raise _translated(error) from None
        except requests.exceptions.SSLError:
            raise SalesforceError(
                "Baton could not verify Salesforce's TLS certificate.", RETRY_LATER_S
            ) from None
        except requests.exceptions.Timeout:
            raise SalesforceError(
                f"Salesforce did not answer within {self.timeout_s:g} seconds.", RETRY_LATER_S
            ) from None
        except requests.exceptions.ConnectionError:
            raise SalesforceError("Baton could not reach Salesforce.", RETRY_LATER_S) from None
        except (ValueError, KeyError, TypeError, requests.exceptions.RequestException):
            # not JSON (requests' JSONDecodeError is a ValueError), or not a query result
            raise SalesforceError(
                "Salesforce answered a query with something that is not a query result.",
                RETRY_LATER_S,
            ) from None


def _first_error(error: LibraryError) -> tuple[str, str]:
    """The errorCode and the message's last line from Salesforce's `[{message, errorCode}]`."""
    content = error.content
    if isinstance(content, list) and content and isinstance(content[0], dict):
        code = str(content[0].get("errorCode") or "")
        message = str(content[0].get("message") or "")
        last = message.strip().splitlines()[-1] if message.strip() else ""
        return code, _NOT_SENTENCE.sub(" ", last)[:300].rstrip(". ")
    return "", ""


def _translated(error: LibraryError) -> SalesforceError:
    code, message = _first_error(error)
    status = error.status
    if isinstance(error, SalesforceExpiredSession):
        return SalesforceError(
            "Salesforce refused Baton's access token as expired or revoked:"
            " connect Salesforce again."
        )
    if isinstance(error, SalesforceRefusedRequest):
        if code == "REQUEST_LIMIT_EXCEEDED":
            if "concurrent" in message.lower():
                return SalesforceError(
                    "Salesforce is running too many long requests for this org;"
                    " Baton will try again shortly.",
                    RETRY_LATER_S,
                )
            return SalesforceError(
                "The Salesforce org has used up its daily API requests;"
                " Baton will try again later.",
                RETRY_TOMORROW_S,
            )
        return SalesforceError(
            f"Salesforce refused the request ({code or status}): {message or 'no reason given'}."
        )
    if isinstance(error, SalesforceMalformedRequest):
        if code == "INVALID_FIELD":
            return SalesforceError(
                f"Salesforce does not know a field Baton asked for ({message}):"
                " check the CRM mapping."
            )
        if code == "INVALID_QUERY_LOCATOR":
            return SalesforceError(
                "Salesforce dropped the query's next page before Baton read it;"
                " Baton will start over.",
                RETRY_LATER_S,
            )
        return SalesforceError(
            f"Salesforce refused Baton's query ({code or status}): {message or 'no reason given'}."
        )
    if isinstance(error, SalesforceResourceNotFound):
        return SalesforceError(
            "Salesforce has no query API at this instance URL and version: check the instance URL."
        )
    if isinstance(error, SalesforceGeneralError) and status in (414, 431):
        return SalesforceError("Baton's Salesforce query was too long for Salesforce.")
    if isinstance(error, SalesforceGeneralError) and status >= 500:
        return SalesforceError(
            f"Salesforce had a problem of its own (HTTP {status}); Baton will try again.",
            RETRY_LATER_S,
        )
    return SalesforceError(f"Salesforce answered a query with HTTP {status}.", RETRY_LATER_S)
