"""Salesforce record ids as Salesforce makes them (the sandbox's own copy: it imports no
Baton code).

An id is a 3-character key prefix naming the object (`00D` organization, `005` user,
`001` account, `006` opportunity, `04k` outbound message action, `04l` outbound
notification, `01g` query locator), then 12 characters, case-sensitive; the 18-character
form appends 3 characters, each encoding which of 5 characters are upper case.
"""

from __future__ import annotations

import itertools
import re
import secrets

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SUFFIX_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_ID_CHARS = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")
_counter = itertools.count(1)


def suffix(id15: str) -> str:
    chars = []
    for start in (0, 5, 10):
        bits = sum(1 << i for i, c in enumerate(id15[start : start + 5]) if "A" <= c <= "Z")
        chars.append(_SUFFIX_CHARS[bits])
    return "".join(chars)


def new_id(prefix: str) -> str:
    """A fresh 18-character id with this key prefix: a pod, then a base-62 counter with a
    random tail, so ids differ between runs and orgs but sort in creation order."""
    number = next(_counter)
    digits = ""
    for _ in range(6):
        number, digit = divmod(number, 62)
        digits = _BASE62[digit] + digits
    tail = "".join(secrets.choice(_BASE62) for _ in range(3))
    id15 = f"{prefix}5e0{digits}{tail}"
    return id15 + suffix(id15)


def canonical(value: object) -> str | None:
    """The 18-character form of a 15 or 18-character id, or None if it is not one."""
    if not isinstance(value, str) or not _ID_CHARS.fullmatch(value):
        return None
    full = value[:15] + suffix(value[:15])
    if len(value) == 18 and value[15:].upper() != full[15:]:
        return None
    return full
