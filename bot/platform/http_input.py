"""What both HTTP doors check before anything parses a request: the body is UTF-8, its JSON
is not nested deeper than any real payload (`json.loads` recurses, and raises
RecursionError past Python's limit), and the signature headers are shaped like a
signature at all (slack_sdk's verifier raises on a timestamp such as "abc" or a
non-ASCII signature)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

MAX_JSON_DEPTH = 64  # Slack's deepest payloads (rich text in a message) nest about 12
MAX_TIMESTAMP_DIGITS = 12
MAX_SIGNATURE_LENGTH = 128
# A JSON string (skipped whole) or one bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class BadRequest(Exception):
    """A request refused before it is parsed: the status and one sentence."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


NOT_UTF8 = BadRequest(400, "The request body is not valid UTF-8.")
NOT_JSON = BadRequest(400, "The request body is not valid JSON.")
TOO_DEEP = BadRequest(400, f"The request body nests more than {MAX_JSON_DEPTH} levels deep.")


def utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NOT_UTF8 from None


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON in `text` opens more than `limit` arrays/objects inside each other."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _TOKENS.finditer(text):
        bracket = token.group()
        if bracket in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif bracket in ("]", "}"):
            depth -= 1
    return False


def json_value(text: str) -> Any:
    """The decoded JSON, or BadRequest (400) when it is not JSON or is nested too deep."""
    if too_deep(text):
        raise TOO_DEEP
    try:
        return json.loads(text)
    except ValueError:  # JSONDecodeError, and integers of more than 4300 digits
        raise NOT_JSON from None


def is_json(content_type: str) -> bool:
    """`application/json`, or a `+json` type; parameters (`; charset=utf-8`) aside."""
    kind, _, subtype = content_type.split(";")[0].strip().partition("/")
    return kind == "application" and (subtype == "json" or subtype.endswith("+json"))


def check_slack_body(text: str, content_type: str | None) -> None:
    """Refuse (400) what Bolt would fail to parse: Bolt reads JSON when the body is JSON or
    starts with "{", else a form whose `payload` field, if any, is JSON; it must be an
    object."""
    if not text:
        return
    if content_type == "application/json" or text.startswith("{"):
        document: str | None = text
    else:
        document = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
    if document is not None and not isinstance(json_value(document), dict):
        raise BadRequest(400, "The request body is not a JSON object.")


def well_formed(timestamp: Any, signature: Any) -> bool:
    """Whether the two headers could carry a signature: a timestamp of ASCII digits and
    an ASCII signature of sane length (verifying it is the signature scheme's job)."""
    return (
        isinstance(timestamp, str)
        and isinstance(signature, str)
        and timestamp.isascii()
        and timestamp.isdigit()
        and len(timestamp) <= MAX_TIMESTAMP_DIGITS
        and signature.isascii()
        and 0 < len(signature) <= MAX_SIGNATURE_LENGTH
    )
