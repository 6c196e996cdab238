"""Acts for the people in the sandbox: sends Slack's signed requests to the bot over HTTP."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bot.sandbox.rules import SlackError, reply_problems, view_answer_problems
from bot.sandbox.server import SlackSandbox
from bot.sandbox.state import Channel, Ephemeral, Message, OpenView, User

# What Slack itself writes into a slash command's text: picked people, channels and groups.
_SLACK_MENTION = re.compile(r"(<(?:@[UW]|#[CG]|!subteam\^S)[A-Z0-9]+(?:\|[^<>]*)?>)")


def as_slack_sends(text: str) -> str:
    """A command's text as Slack sends it with should_escape (the manifest sets it): typed
    `&`, `<`, `>` arrive as entities; mentions picked from autocomplete arrive as given."""
    parts = _SLACK_MENTION.split(text)
    return "".join(
        part if i % 2 else part.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        for i, part in enumerate(parts)
    )


ACK_LIMIT_S = 3.0  # Slack's wait for an answer to a command, an interaction or an event


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack adds to every request it sends an app."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    # Slack signs UTF-8 text; a body that is not (tests send some) is signed with
    # replacement characters, so no verifier accepts it.
    text = body.decode("utf-8", errors="replace")
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=text)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": str(signature)}


@dataclass
class Reply:
    status: int
    text: str
    late: bool = False  # answered after Slack had given up (more than 3 s, real time)
    rejected: list[str] = field(default_factory=list)  # why Slack would refuse the answer

    @property
    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


@dataclass(frozen=True)
class LateAck:
    """An answer slower than Slack's 3 seconds: the person saw an error (an event is
    retried by Slack). Measured in real time, whatever the simulated clock says."""

    what: str
    seconds: float


class SlackDriver:
    """Sends what Slack would send when people act: signed HTTP requests to `bot_url`, or,
    with `socket_mode=True`, envelopes over the app's Socket Mode connection."""

    def __init__(
        self,
        sandbox: SlackSandbox,
        bot_url: str,
        signing_secret: str = "",
        api_app_id: str = "A0BATON",
        *,
        socket_mode: bool = False,
    ) -> None:
        self.sandbox = sandbox
        self.workspace = sandbox.workspace
        self.bot_url = bot_url.rstrip("/")
        self.signing_secret = signing_secret
        self.api_app_id = api_app_id
        self.socket_mode = socket_mode
        self.late_acks: list[LateAck] = []
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            # trust_env=False: loopback traffic never goes through an ambient proxy.
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session

    async def post(
        self, path: str, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> Reply:
        merged = {"Content-Type": content_type, **(headers or {})}
        async with self._http().post(self.bot_url + path, data=body, headers=merged) as resp:
            return Reply(resp.status, await resp.text())

    async def get(self, path: str) -> Reply:
        async with self._http().get(self.bot_url + path) as resp:
            return Reply(resp.status, await resp.text())

    async def _deliver(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str = "",
    ) -> Reply:
        """`kind` is Slack's Socket Mode envelope type: slash_commands, interactive, events_api.

        Slack waits 3 seconds for the answer; a slower one is recorded in `late_acks` and
        comes back with `late=True` (Slack ignores what it says)."""
        started = time.monotonic()
        if self.socket_mode:
            try:
                ack = await self.sandbox.deliver_envelope(
                    kind,
                    payload,
                    retry_attempt=retry_num or 0,
                    retry_reason=retry_reason,
                    wait_s=ACK_LIMIT_S,
                )
            except TimeoutError:
                self.late_acks.append(LateAck(_what(kind, payload), time.monotonic() - started))
                return Reply(408, "", late=True)  # Slack gives up and shows an error
            return Reply(200, json.dumps(ack) if ack else "")
        reply = await self._post_signed(kind, payload, retry_num, retry_reason)
        elapsed = time.monotonic() - started
        if elapsed > ACK_LIMIT_S:
            self.late_acks.append(LateAck(_what(kind, payload), elapsed))
            reply.late = True
        return reply

    async def _post_signed(
        self, kind: str, payload: dict[str, Any], retry_num: int | None, retry_reason: str
    ) -> Reply:
        extra: dict[str, str] = {}
        if kind == "events_api":
            body, content_type = json.dumps(payload).encode(), "application/json"
            if retry_num is not None:
                extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        else:
            fields = payload if kind == "slash_commands" else {"payload": json.dumps(payload)}
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        headers = {**sign(self.signing_secret, body), **extra}
        return await self.post("/slack/events", body, content_type, headers)

    def _team(self) -> dict[str, str]:
        return {"id": self.workspace.team_id, "domain": "sandbox"}

    def _user(self, user: User) -> dict[str, str]:
        return {
            "id": user.id,
            "username": user.name,
            "name": user.name,
            "team_id": self.workspace.team_id,
        }

    # --- slash commands ---------------------------------------------------------------
    async def command(
        self, user: User, text: str, channel: Channel | None = None, command: str = "/baton"
    ) -> Reply:
        """`text` as the person typed it, `<@U…|name>` / `<#C…|name>` for what they picked."""
        channel = channel or self.workspace.dm_channel(user.id)
        reply = await self._deliver(
            "slash_commands",
            {
                "token": "legacy-unused",
                "team_id": self.workspace.team_id,
                "team_domain": "sandbox",
                "channel_id": channel.id,
                "channel_name": channel.name if not channel.is_im else "directmessage",
                "user_id": user.id,
                "user_name": user.name,
                "command": command,
                "text": as_slack_sends(text),
                "api_app_id": self.api_app_id,
                "response_url": self.sandbox.response_url_for(user.id, channel.id),
                "trigger_id": self.workspace.issue_trigger(user.id),
            },
        )
        self._show_command_reply(user, channel, reply)
        return reply

    def _show_command_reply(self, user: User, channel: Channel, reply: Reply) -> None:
        """Slack shows a slash command's immediate HTTP answer to the person who typed it,
        unless it came too late or breaks a rule: then the person sees an error."""
        if reply.late or reply.status != 200 or not reply.text.strip():
            return
        try:
            body = reply.json if reply.text.lstrip().startswith("{") else {"text": reply.text}
        except ValueError:
            body = None
        reply.rejected = reply_problems(body) if body is not None else ["invalid JSON"]
        if reply.rejected:
            self.sandbox.reject("command", reply.rejected, reply.text)
            return
        ws = self.workspace
        text, blocks = str(body.get("text") or ""), body.get("blocks")
        if body.get("response_type") == "in_channel":
            ws.channels[channel.id].messages.append(
                Message(
                    ts=ws._next_ts(),
                    channel=channel.id,
                    user=ws.bot.id,
                    text=text,
                    blocks=blocks,
                    at=ws.clock(),
                )
            )
        else:
            ws.ephemerals.append(Ephemeral(channel.id, user.id, text, blocks, ws.clock()))

    # --- Events API -------------------------------------------------------------------
    async def event(
        self,
        event: dict[str, Any],
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        event_id: str | None = None,
    ) -> Reply:
        body = {
            "token": "legacy-unused",
            "team_id": self.workspace.team_id,
            "api_app_id": self.api_app_id,
            "event": {"event_ts": f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "team_id": self.workspace.team_id,
                    "user_id": self.workspace.bot.id,
                    "is_bot": True,
                }
            ],
        }
        return await self._deliver(
            "events_api", body, retry_num=retry_num, retry_reason=retry_reason
        )

    async def deactivate(self, user: User) -> Reply:
        """An admin deactivates someone; Slack tells the app with user_change."""
        self.workspace.deactivate_user(user)
        return await self.event(
            {"type": "user_change", "user": user.as_json(self.workspace.clock())}
        )

    async def member_joined(
        self, channel: Channel, user: User, inviter: User | None = None
    ) -> Reply:
        """Someone joins a channel (an external user or a guest too: see `add_user`)."""
        self.workspace.add_member(channel, user)
        event = {
            "type": "member_joined_channel",
            "user": user.id,
            "channel": channel.id,
            "channel_type": "G" if channel.is_private else "C",
            "team": user.team_id,
        }
        if inviter is not None:
            event["inviter"] = inviter.id
        return await self.event(event)

    async def channel_shared(self, channel: Channel, team_id: str = "T0CUSTOMER") -> Reply:
        self.workspace.share_externally(channel, team_id)
        return await self.event(
            {"type": "channel_shared", "connected_team_id": team_id, "channel": channel.id}
        )

    async def channel_unshared(self, channel: Channel, team_id: str = "T0CUSTOMER") -> Reply:
        self.workspace.unshare_externally(channel, team_id)
        return await self.event(
            {
                "type": "channel_unshared",
                "previously_connected_team_id": team_id,
                "channel": channel.id,
                "is_ext_shared": bool(channel.shared_team_ids),
            }
        )

    async def accept_shared_invite(
        self, channel: Channel, team_id: str = "T0CUSTOMER"
    ) -> list[User]:
        """The invited people accept a Slack Connect invitation: the channel is shared
        (channel_shared) and each of them joins it (member_joined_channel)."""
        joined = self.workspace.accept_shared_invite(channel, team_id)
        await self.event(
            {"type": "channel_shared", "connected_team_id": team_id, "channel": channel.id}
        )
        for user in joined:
            await self.member_joined(channel, user)
        return joined

    async def open_home(self, user: User) -> Reply:
        channel = self.workspace.dm_channel(user.id)
        return await self.event(
            {"type": "app_home_opened", "user": user.id, "channel": channel.id, "tab": "home"}
        )

    # --- interactivity ----------------------------------------------------------------
    async def click(
        self,
        user: User,
        action_id: str,
        *,
        value: str | None = None,
        block_id: str = "actions",
        channel: Channel | None = None,
        message_ts: str | None = None,
        view: OpenView | None = None,
        home: bool = False,
    ) -> Reply:
        action: dict[str, Any] = {
            "type": "button",
            "action_id": action_id,
            "block_id": block_id,
            "action_ts": f"{time.time():.6f}",
        }
        if value is not None:
            action["value"] = value
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": "legacy-unused",
            "team": self._team(),
            "trigger_id": self.workspace.issue_trigger(user.id),
            "actions": [action],
        }
        if view is not None:
            payload["container"] = {"type": "view", "view_id": view.id}
            payload["view"] = self.workspace._view_json(view) | {"state": {"values": {}}}
        elif home:
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {
                "id": "VHOME",
                "type": "home",
                **self.workspace.home_views.get(user.id, {}),
            }
        else:
            assert channel is not None, "a message click needs its channel"
            message = next(m for m in channel.messages if m.ts == message_ts)
            payload["container"] = {
                "type": "message",
                "message_ts": message.ts,
                "channel_id": channel.id,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel.id, "name": channel.name}
            payload["message"] = message.as_json()
            payload["response_url"] = self.sandbox.response_url_for(user.id, channel.id)
        return await self._deliver("interactive", payload)

    async def submit(self, user: User, view: OpenView, values: dict[str, Any]) -> Reply:
        """Submit a modal; `values` maps block_id to the value typed or picked.

        The element type of each input block is read from the view, so values are shaped
        exactly as Slack shapes them in `view.state.values`. Slack then acts on the
        response: closes the modal, shows errors, updates or pushes a view.
        """
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": "legacy-unused",
            "trigger_id": self.workspace.issue_trigger(user.id),
            "view": self.workspace._view_json(view)
            | {"state": {"values": state_values(view.view, values)}},
            "response_urls": [],
        }
        reply = await self._deliver("interactive", payload)
        self._apply_view_response(user, view, reply)
        return reply

    async def close_view(
        self, user: User, view: OpenView, values: dict[str, Any] | None = None
    ) -> Reply:
        """The user closes the modal (Cancel or ×); Slack sends what was typed in it."""
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": "legacy-unused",
            "view": self.workspace._view_json(view)
            | {"state": {"values": state_values(view.view, values or {})}},
            "is_cleared": False,
        }
        self.workspace.close_view(view.id)
        if not view.view.get("notify_on_close"):
            return Reply(200, "")  # Slack only tells apps that asked for it
        return await self._deliver("interactive", payload)

    def _apply_view_response(self, user: User, view: OpenView, reply: Reply) -> None:
        """Slack acts on the answer: closes the modal, shows errors, updates or pushes. A
        late or malformed answer leaves the modal open with an error."""
        if reply.late or reply.status != 200:
            return
        try:
            body = json.loads(reply.text) if reply.text.strip() else None
        except ValueError:
            body = reply.text
        reply.rejected = view_answer_problems(body, view.view)
        if not reply.rejected:
            try:
                self._act_on_view_answer(user, view, body or {})
            except SlackError as exc:
                reply.rejected = [exc.code]
        if reply.rejected:
            self.sandbox.reject("view_submission", reply.rejected, body)

    def _act_on_view_answer(self, user: User, view: OpenView, body: dict[str, Any]) -> None:
        action = body.get("response_action")
        if action is None:
            self.workspace.close_view(view.id)
        elif action == "clear":
            for opened in self.workspace.views_of(user.id):
                self.workspace.close_view(opened.id)
        elif action == "update":
            self.workspace.api_views_update({"view_id": view.id, "view": body["view"]})
        elif action == "push":
            trigger = self.workspace.issue_trigger(user.id)
            self.workspace.api_views_push({"trigger_id": trigger, "view": body["view"]})


def _what(kind: str, payload: dict[str, Any]) -> str:
    """A short name for a delivery, for late-ack reports."""
    if kind == "slash_commands":
        return f"{payload.get('command')} {payload.get('text', '')}".strip()
    if kind == "events_api":
        return f"event {payload.get('event', {}).get('type')}"
    if payload.get("type") == "block_actions":
        return f"click {payload['actions'][0].get('action_id')}"
    return f"{payload.get('type')} {payload.get('view', {}).get('callback_id', '')}".strip()


_UNTOUCHED = object()


def state_values(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """`view.state.values` as Slack would send it: what the person typed or picked, and for
    every input they left alone, its initial value (as Slack keeps prefilled fields)."""
    state: dict[str, Any] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        block_id = block.get("block_id", "")
        value = values.get(block_id, _UNTOUCHED)
        if value is _UNTOUCHED:
            value = _initial(element)
        state[block_id] = {element["action_id"]: _element_value(element, value)}
    return state


def _initial(element: dict[str, Any]) -> Any:
    if "initial_option" in element:
        return element["initial_option"].get("value")
    if "initial_options" in element:
        return [option.get("value") for option in element["initial_options"]]
    for key in ("initial_value", "initial_date", "initial_user", "initial_users"):
        if key in element:
            return element[key]
    return None


def _element_value(element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element["type"]
    if kind in ("static_select", "radio_buttons"):
        option = _option(element, value)
        return {"type": kind, "selected_option": option}
    if kind in ("checkboxes", "multi_static_select"):
        chosen = [_option(element, v) for v in (value or [])]
        return {"type": kind, "selected_options": [o for o in chosen if o]}
    if kind == "datepicker":
        return {"type": kind, "selected_date": value}
    if kind == "users_select":
        return {"type": kind, "selected_user": value}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": list(value or [])}
    return {"type": kind, "value": None if value in (None, "") else str(value)}


def _option(element: dict[str, Any], value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return next((o for o in element.get("options", []) if o.get("value") == value), None)
