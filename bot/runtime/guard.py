"""One global middleware: the shape every listener relies on, checked before any runs.

It runs as Bolt's `before_authorize` middleware: right after the signature is verified,
before Bolt's own middleware (which reads `body["event"]` too) and every listener. It is
a class, not a decorated function: Bolt builds a function middleware's arguments with
`body["actions"][0]` and friends, which is what must not be reached.

A signed payload can still be malformed (a leaked signing secret, a proxy, a Slack bug),
and the listeners index `body["actions"][0]`, `body["team"]["id"]` and
`view["state"]["values"]` as Slack documents them. Anything shaped otherwise is
acknowledged and ignored, with one log line. Text Baton can't store (a NUL, a lone
surrogate) is refused with one sentence: an inline error on the modal fields that carry
it, an ephemeral answer to a slash command, or silence for a click or an event.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from flows.bounds import unstorable_anywhere

log = logging.getLogger(__name__)

UNSTORABLE = (
    "That contains a character Baton can't store (a NUL or a broken Unicode character); "
    "please type it again."
)
_SLACK_ID = re.compile(r"[A-Za-z0-9]{1,32}")  # team, user, channel and view ids fit a column
_STRING_STATES = ("value", "selected_date", "selected_time", "selected_user", "selected_channel")
# What the events Baton listens to carry in `event.user`.
_EVENT_USER: dict[str, type] = {"user_change": dict, "app_home_opened": str}


class PayloadGuard(AsyncMiddleware):
    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002 (Bolt's keyword)
    ) -> BoltResponse | None:
        req.context["ack"] = KeptAck()
        body = req.body
        problem = shape_problem(body)
        if problem is None and unstorable_anywhere(body):
            problem, refusal = "text Baton can't store", _refusal(body)
        else:
            refusal = BoltResponse(status=200, body="")
        if problem is None:
            return await next()
        log.warning("ignored a Slack %s request: %s", _kind(body), problem)
        return refusal

    @property
    def name(self) -> str:
        return "PayloadGuard"


class KeptAck(AsyncAck):
    """An ack that stays given. When a listener raises after it acknowledged, Bolt's
    runner sets `ack.response` back to None; if that lands before Bolt's dispatcher has
    polled for the ack (a database that refuses at once is that fast), Slack is answered
    404 three seconds later instead of the 200 already given."""

    @property  # type: ignore[override]
    def response(self) -> BoltResponse | None:
        return self.__dict__.get("_given")

    @response.setter
    def response(self, value: BoltResponse | None) -> None:
        if value is not None or self.__dict__.get("_given") is None:
            self.__dict__["_given"] = value


def _kind(body: Any) -> str:
    if not isinstance(body, dict):
        return "non-object"
    return "slash command" if "command" in body else str(body.get("type"))[:40]


def _refusal(body: dict) -> BoltResponse:
    if "command" in body:
        return BoltResponse(status=200, body={"response_type": "ephemeral", "text": UNSTORABLE})
    if body.get("type") == "view_submission":
        values = body["view"]["state"]["values"]
        blocks = [block for block, state in values.items() if unstorable_anywhere(state)]
        if blocks:
            errors = {block: UNSTORABLE for block in blocks}
            return BoltResponse(status=200, body={"response_action": "errors", "errors": errors})
    return BoltResponse(status=200, body="")


def shape_problem(body: Any) -> str | None:
    """Why a payload can't be handed to the listeners, or None when it can."""
    if not isinstance(body, dict):
        return "the payload is not an object"
    if "command" in body:
        return _command_problem(body)
    kind = body.get("type")
    if kind == "block_actions":
        return _ids_problem(body) or _action_problem(body)
    if kind in ("view_submission", "view_closed"):
        return _ids_problem(body) or _view_problem(body.get("view"))
    if kind == "event_callback":
        return _event_problem(body)
    if kind == "url_verification":  # Slack checking the Request URL: Bolt echoes the challenge
        return None if isinstance(body.get("challenge"), str) else "challenge is missing"
    return "not a kind of request Baton handles"


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and bool(_SLACK_ID.fullmatch(value))


def _command_problem(body: dict) -> str | None:
    for key in ("team_id", "user_id", "channel_id"):
        if not _is_id(body.get(key)):
            return f"{key} is missing or malformed"
    if not isinstance(body.get("trigger_id"), str) or not isinstance(body.get("text", ""), str):
        return "trigger_id or text is missing or malformed"
    return None


def _ids_problem(body: dict) -> str | None:
    for key in ("team", "user"):
        part = body.get(key)
        if not isinstance(part, dict) or not _is_id(part.get("id")):
            return f"{key}.id is missing or malformed"
    return None


def _action_problem(body: dict) -> str | None:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return "actions is missing or empty"
    action = actions[0]
    if not isinstance(action, dict) or not isinstance(action.get("action_id"), str):
        return "actions[0].action_id is missing"
    if not isinstance(action.get("value", ""), str):
        return "actions[0].value is not a string"
    if not isinstance(body.get("trigger_id"), str):
        return "trigger_id is missing"
    if "view" in body and _view_problem(body["view"]):
        return "the view it came from is malformed"
    return None


def _view_problem(view: Any) -> str | None:
    if not isinstance(view, dict):
        return "view is missing or not an object"
    for key in ("id", "root_view_id"):
        if view.get(key) is not None and not _is_id(view[key]):
            return f"view.{key} is malformed"
    for key in ("callback_id", "private_metadata"):
        if not isinstance(view.get(key, ""), str):
            return f"view.{key} is not a string"
    state = view.get("state", {})
    values = state.get("values", {}) if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return "view.state.values is not an object"
    for block in values.values():
        if not isinstance(block, dict) or not all(
            isinstance(element, dict) and _element_ok(element) for element in block.values()
        ):
            return "view.state.values holds a malformed input"
    return None


def _element_ok(state: dict) -> bool:
    """An input's state holds what its element type says: strings, options, user lists."""
    if any(
        state.get(key) is not None and not isinstance(state[key], str) for key in _STRING_STATES
    ):
        return False
    option = state.get("selected_option")
    if option is not None and not _option_ok(option):
        return False
    options = state.get("selected_options")
    if options is not None and not (isinstance(options, list) and all(map(_option_ok, options))):
        return False
    users = state.get("selected_users")
    return users is None or (isinstance(users, list) and all(isinstance(u, str) for u in users))


def _option_ok(option: Any) -> bool:
    return isinstance(option, dict) and isinstance(option.get("value"), str)


def _event_problem(body: dict) -> str | None:
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return "event is missing or malformed"
    if not _is_id(body.get("team_id")):
        return "team_id is missing or malformed"
    expected = _EVENT_USER.get(event["type"])
    user = event.get("user")
    if expected is dict and not (isinstance(user, dict) and _is_id(user.get("id"))):
        return "event.user is not a user"
    if expected is str and not _is_id(user):
        return "event.user is not a user id"
    return None
