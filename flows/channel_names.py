"""Slack channel names for accounts: `acct-acme-robotics` (internal) and `ext-acme-robotics`
(shared with the customer), valid for any account name."""

from __future__ import annotations

import re
import unicodedata

PREFIX = "acct-"  # the internal account channel
CUSTOMER_PREFIX = "ext-"  # the channel shared with the customer (Slack Connect)
MAX_LENGTH = 80  # Slack's limit


def slug(text: str) -> str:
    """Lowercase ASCII letters, digits and single hyphens; accents folded, the rest dropped."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def channel_name(account_name: str, crm_id: str, attempt: int = 1, prefix: str = PREFIX) -> str:
    """The name to try on attempt N (N ≥ 2 adds `-N`), always within Slack's rules.

    A name with nothing Latin in it (say, 株式会社) falls back to the CRM id, so two such
    accounts never fight over `acct-`.
    """
    base = slug(account_name) or slug(crm_id) or "account"
    suffix = "" if attempt <= 1 else f"-{attempt}"
    room = MAX_LENGTH - len(prefix) - len(suffix)
    return prefix + base[:room].rstrip("-") + suffix
