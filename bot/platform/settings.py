"""Configuration from the environment (and an optional `.env`), with one-sentence errors.

The variable names are a contract with operators and deployment docs: do not rename them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PrivateAttr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.crm.mapping import Mapping, MappingError, load_mapping

SLACK_API_URL = "https://slack.com/api/"
HUBSPOT_API_URL = "https://api.hubapi.com"
_ORG_ID = re.compile(r"^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_GROUP = re.compile(r"^(@[a-z0-9][a-z0-9._-]*|S[A-Z0-9]{2,})$")
DEFAULT_DATABASE_URL = "sqlite:///baton.db"


@cache
def _calendar(country: str, subdivision: str) -> Container[date]:
    import holidays as holiday_calendars  # only once a country is configured: a slow import

    return holiday_calendars.country_holidays(country, subdiv=subdivision or None)


N = TypeVar("N", int, float)


def number_within(value: object, cast: Callable[[str], N], low: N, high: N) -> N | None:
    """`value` read as a number from `low` to `high`, or None if it is not one."""
    try:
        number = cast(str(value).strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one sentence for the operator."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    baton_webhook_secret: str | None = None
    port: int = 3000
    baton_timezone: str = "UTC"
    baton_channel_private: bool = True
    baton_slack_connect: bool = False
    baton_arr_threshold: Decimal = Decimal(75000)
    baton_marketing_required: bool = True
    baton_marketing_users: str = ""
    baton_ops_users: str = ""  # the Ops default of accounts without their own (see `ops_users`)
    baton_managers: str = ""
    baton_creators: str = ""  # who may create accounts with /baton new (see `creators`)
    baton_tick_seconds: float = 30.0
    # Slack's workspace-wide limit on chat.postMessage, which it does not publish.
    baton_slack_posts_per_minute: int = 600
    baton_holidays_country: str = ""  # ISO 3166 code such as US or DE; empty: weekends only
    baton_holidays_subdivision: str = ""  # such as CA or BY, within the country
    # The CRM doors and the sync (bot/crm/): each door answers 503 while its secret is unset.
    baton_hubspot_client_secret: str | None = None  # the HubSpot app's, signs its webhooks
    baton_hubspot_token: str | None = None  # a private app's access token, to read deals
    baton_hubspot_api_url: str = HUBSPOT_API_URL
    baton_salesforce_secret: str | None = None  # the Flow callout's bearer token
    baton_salesforce_org_ids: str = ""  # the orgs whose Outbound Messages are taken
    baton_salesforce_instance_url: str | None = None  # with the token: the sync, and lookups
    baton_salesforce_token: str | None = None
    baton_crm_mapping: str | None = None  # a mapping file of your own (flows/crm/mapping.toml)
    _crm_mapping: Mapping | None = PrivateAttr(default=None)

    @field_validator("baton_holidays_country", "baton_holidays_subdivision", mode="before")
    @classmethod
    def _upper(cls, value: object) -> str:
        return str(value or "").strip().upper()

    @model_validator(mode="after")
    def _holiday_calendar(self) -> Settings:
        if self.baton_holidays_subdivision and not self.baton_holidays_country:
            raise ValueError("BATON_HOLIDAYS_SUBDIVISION needs BATON_HOLIDAYS_COUNTRY set as well")
        if self.baton_holidays_country:
            try:
                _calendar(self.baton_holidays_country, self.baton_holidays_subdivision)
            except NotImplementedError:
                place = self.baton_holidays_country
                if self.baton_holidays_subdivision:
                    place += f"/{self.baton_holidays_subdivision}"
                raise ValueError(
                    f"BATON_HOLIDAYS_COUNTRY/SUBDIVISION {place!r} is not a country (and "
                    "subdivision) the holidays package knows, such as US or DE with BY"
                ) from None
        return self

    @field_validator("baton_tick_seconds", mode="before")
    @classmethod
    def _tick(cls, value: object) -> float:
        seconds = number_within(value, float, 0.1, 3600)
        if seconds is None:
            raise ValueError("expects a number of seconds from 0.1 to 3600")
        return seconds

    @field_validator(
        "baton_channel_private", "baton_slack_connect", "baton_marketing_required", mode="before"
    )
    @classmethod
    def _flag(cls, value: object) -> bool:
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError("expects true or false")

    @field_validator("baton_arr_threshold", mode="before")
    @classmethod
    def _threshold(cls, value: object) -> Decimal:
        try:
            amount = Decimal(str(value).strip().replace("_", "").replace(",", ""))
        except InvalidOperation:
            amount = Decimal(-1)
        if not amount.is_finite() or amount < 0:
            raise ValueError("expects an annual amount such as 75000")
        return amount

    @field_validator("baton_marketing_users", "baton_ops_users", mode="before")
    @classmethod
    def _user_ids(cls, value: object) -> str:
        ids = [part.strip() for part in str(value or "").split(",") if part.strip()]
        for user_id in ids:
            if not _USER_ID.match(user_id):
                raise ValueError("expects comma-separated Slack user ids such as U0123ABCD")
        return ",".join(ids)

    @field_validator("baton_managers", "baton_creators", mode="before")
    @classmethod
    def _people_and_groups(cls, value: object) -> str:
        parts = [part.strip() for part in str(value or "").split(",") if part.strip()]
        for part in parts:
            if not (_USER_ID.match(part) or _GROUP.match(part.lower() if part[0] == "@" else part)):
                raise ValueError(
                    "expects comma-separated Slack user ids such as U0123ABCD and/or a user "
                    "group handle such as @cs-leads"
                )
        return ",".join(p.lower() if p.startswith("@") else p for p in parts)

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "baton_webhook_secret",
        "baton_hubspot_client_secret",
        "baton_hubspot_token",
        "baton_salesforce_secret",
        "baton_salesforce_instance_url",
        "baton_salesforce_token",
        "baton_crm_mapping",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("expects a bot token starting with 'xoxb-'")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("expects an app-level token starting with 'xapp-'")
        return value

    @field_validator("slack_api_url", mode="before")
    @classmethod
    def _api_url(cls, value: object) -> str:
        text = str(value).strip()
        parsed = urlparse(text)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"expects an http(s) URL such as {SLACK_API_URL}")
        return text if text.endswith("/") else text + "/"

    @field_validator("baton_hubspot_api_url", "baton_salesforce_instance_url", mode="before")
    @classmethod
    def _crm_url(cls, value: object) -> str | None:
        if value is None or not str(value).strip():
            return None
        text = str(value).strip().rstrip("/")
        parsed = urlparse(text)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(f"expects an http(s) URL such as {HUBSPOT_API_URL}")
        return text

    @field_validator("baton_salesforce_org_ids", mode="before")
    @classmethod
    def _org_ids(cls, value: object) -> str:
        ids = [part.strip() for part in str(value).split(",") if part.strip()]
        for org in ids:
            if not _ORG_ID.match(org):
                raise ValueError(
                    "expects Salesforce organization ids (15 or 18 letters and digits, "
                    "starting 00D), separated by commas"
                )
        return ",".join(ids)

    @model_validator(mode="after")
    def _mapping(self) -> Settings:
        try:
            self._crm_mapping = load_mapping(self.baton_crm_mapping)
        except MappingError as bad:
            raise ValueError(f"BATON_CRM_MAPPING {str(bad).rstrip('.')}") from None
        return self

    @property
    def crm_mapping(self) -> Mapping:
        """The CRM mapping, checked when the settings were read."""
        assert self._crm_mapping is not None
        return self._crm_mapping

    @property
    def salesforce_org_ids(self) -> frozenset[str]:
        """The orgs, by their 15-character id (an 18-character id adds a checksum)."""
        return frozenset(org[:15] for org in self.baton_salesforce_org_ids.split(",") if org)

    @field_validator("database_url", mode="before")
    @classmethod
    def _database_url(cls, value: object) -> str:
        text = str(value).strip()
        scheme = text.split("://", 1)[0] if "://" in text else ""
        backend = scheme.split("+", 1)[0]
        if backend not in ("sqlite", "postgresql", "postgres"):
            raise ValueError("expects a sqlite:///path or postgresql+psycopg://user@host/db URL")
        if backend == "postgres":
            text = "postgresql" + text[len("postgres") :]
        if text.startswith("postgresql://"):
            text = "postgresql+psycopg://" + text[len("postgresql://") :]
        return text

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, value: object) -> int:
        port = number_within(value, int, 1, 65535)
        if port is None:
            raise ValueError("expects a whole number from 1 to 65535")
        return port

    @field_validator("baton_slack_posts_per_minute", mode="before")
    @classmethod
    def _posts_per_minute(cls, value: object) -> int:
        per_minute = number_within(value, int, 1, 100_000)
        if per_minute is None:
            raise ValueError("expects a whole number of messages a minute from 1 to 100000")
        return per_minute

    @field_validator("baton_timezone", mode="before")
    @classmethod
    def _timezone(cls, value: object) -> str:
        text = str(value).strip()
        try:
            ZoneInfo(text)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expects an IANA time zone such as Europe/Berlin or UTC") from None
        return text

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self.baton_timezone)

    @property
    def holidays(self) -> Container[date]:
        """Public holidays of the configured country (and subdivision); none by default."""
        if not self.baton_holidays_country:
            return frozenset()
        return _calendar(self.baton_holidays_country, self.baton_holidays_subdivision)

    @property
    def managers(self) -> frozenset[str]:
        """The managers named by user id (see `manager_groups` for user groups)."""
        return _user_ids(self.baton_managers)

    @property
    def manager_groups(self) -> frozenset[str]:
        """User groups whose members are managers: handles (@cs-leads) or ids (S0123…)."""
        return _groups(self.baton_managers)

    @property
    def creators(self) -> frozenset[str]:
        """BATON_CREATORS named by user id: who may create accounts (besides managers and
        admins). Unset, the default applies: the AEs and managers Baton already knows."""
        return _user_ids(self.baton_creators)

    @property
    def creator_groups(self) -> frozenset[str]:
        return _groups(self.baton_creators)

    @property
    def marketing_users(self) -> frozenset[str]:
        return frozenset(filter(None, self.baton_marketing_users.split(",")))

    @property
    def ops_users(self) -> tuple[str, ...]:
        """BATON_OPS_USERS in the order given: the first owns the Ops steps of every account
        without an Ops person of its own; all of them are shown as its Ops team."""
        return tuple(filter(None, self.baton_ops_users.split(",")))

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def require(self, *names: str) -> None:
        """Raise ConfigError for the first of these settings that is unset."""
        for name in names:
            if getattr(self, name) is None:
                raise ConfigError(f"{name.upper()} is not set: {_WHAT_IT_IS[name]}.")


def _user_ids(listing: str) -> frozenset[str]:
    return frozenset(p for p in listing.split(",") if _USER_ID.match(p))


def _groups(listing: str) -> frozenset[str]:
    return frozenset(p for p in listing.split(",") if p and not _USER_ID.match(p))


_WHAT_IT_IS = {
    "slack_bot_token": "set it to the app's bot token (xoxb-…)",
    "slack_signing_secret": "set it to the app's signing secret from Basic Information",
    "slack_app_token": "set it to an app-level token (xapp-…) for Socket Mode",
    "baton_webhook_secret": "set it to the shared secret your CRM signs webhooks with",
}


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings; any problem becomes a ConfigError naming the variable."""
    try:
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # a rule across settings: its message names them (no input)
            raise ConfigError(str(error["msg"]).removeprefix("Value error, ") + ".") from None
        name = str(error["loc"][0]).upper() if error["loc"] else "configuration"
        message = str(error["msg"]).removeprefix("Value error, ")
        shown = "" if name in _SECRETS else f" (got {error.get('input')!r})"
        raise ConfigError(f"{name} {message}{shown}.") from None


_SECRETS = {
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "BATON_WEBHOOK_SECRET",
    "BATON_HUBSPOT_CLIENT_SECRET",
    "BATON_HUBSPOT_TOKEN",
    "BATON_SALESFORCE_SECRET",
    "BATON_SALESFORCE_TOKEN",
}
