"""The sandbox workspace: users, channels, messages, views, and the Web API methods on them.

Each `api_*` method takes the caller and the decoded arguments and returns the JSON body
Slack would return, or raises SlackError with Slack's error string.
"""

from __future__ import annotations

import itertools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.sandbox import paging
from bot.sandbox.rules import (
    MESSAGE_TEXT_MAX,
    SlackError,
    check_blocks,
    check_channel_name,
    check_view,
    decode_json_arg,
)

TRIGGER_TTL_S = 3.0
VIEW_STACK_MAX = 3


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False
    is_admin: bool = False
    team_id: str = ""  # the workspace's own, unless the user comes from another team
    is_restricted: bool = False  # a guest (multi-channel)
    is_ultra_restricted: bool = False  # a single-channel guest

    def as_json(self, now: datetime) -> dict[str, Any]:
        offset = int(now.astimezone(ZoneInfo(self.tz)).utcoffset().total_seconds())  # type: ignore[union-attr]
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "is_bot": self.is_bot,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "tz": self.tz,
            "tz_offset": offset,
            "profile": {
                "email": self.email,
                "real_name": self.real_name,
                "display_name": self.name,
            },
        }


@dataclass
class Message:
    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    edited: bool = False

    def as_json(self, include_metadata: bool = False) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
        }
        if self.blocks:
            body["blocks"] = self.blocks
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if include_metadata and self.metadata:
            body["metadata"] = self.metadata
        return body


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    is_im: bool = False
    creator: str = ""
    members: set[str] = field(default_factory=set)
    topic: str = ""
    messages: list[Message] = field(default_factory=list)
    bookmarks: list[dict[str, Any]] = field(default_factory=list)
    shared_invites: list[str] = field(default_factory=list)
    is_archived: bool = False
    shared_team_ids: list[str] = field(default_factory=list)  # other teams it is shared with

    @property
    def kind(self) -> str:
        return "im" if self.is_im else "private" if self.is_private else "public"

    def as_json(self, viewer: str, team_id: str = "") -> dict[str, Any]:
        # Private channels are created with C ids (Slack stopped issuing G ids): only
        # is_private / is_group tell them apart, never the prefix.
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_im,
            "is_group": False,  # only pre-2021 private channels (G ids) were groups
            "is_im": self.is_im,
            "is_mpim": False,
            "is_private": self.is_private or self.is_im,
            "is_archived": self.is_archived,
            "is_member": viewer in self.members,
            "is_shared": bool(self.shared_team_ids),
            "is_ext_shared": bool(self.shared_team_ids),
            "is_org_shared": False,
            "is_pending_ext_shared": bool(self.shared_invites),
            "shared_team_ids": [team_id, *self.shared_team_ids] if self.shared_team_ids else [],
            "context_team_id": team_id,
            "creator": self.creator,
            "topic": {"value": self.topic},
            "num_members": len(self.members),
        }


@dataclass
class UserGroup:
    id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)

    def as_json(self, team_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "handle": self.handle,
            "user_count": len(self.users),
        }


@dataclass
class Ephemeral:
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    at: datetime


@dataclass
class OpenView:
    id: str
    user: str
    view: dict[str, Any]
    hash: str
    root_id: str
    private_metadata: str = ""


@dataclass
class Trigger:
    user: str
    issued: float  # the workspace's (maybe simulated) monotonic time
    issued_real: float = field(default_factory=time.monotonic)  # real time, never frozen
    used: bool = False


class SandboxWorkspace:
    """One Slack workspace with a bot installed in it."""

    def __init__(
        self,
        team_id: str = "T0SANDBOX",
        team_name: str = "Sandbox Co",
        bot_scopes: set[str] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.team_id = team_id
        self.team_name = team_name
        self.clock = clock
        self.monotonic = monotonic
        self._ids = itertools.count(1)
        self._ts_last = 0.0
        self.bot = User(id="U0BATONBOT", name="baton", real_name="Baton", email="", is_bot=True)
        self.bot_id = "B0BATONBOT"
        self.bot_token = "xoxb-sandbox-" + secrets.token_hex(8)
        self.app_token = "xapp-sandbox-" + secrets.token_hex(8)  # Socket Mode
        self.bot_scopes = set(bot_scopes or ())
        self.users: dict[str, User] = {self.bot.id: self.bot}
        self.channels: dict[str, Channel] = {}
        self.ephemerals: list[Ephemeral] = []
        self.views: dict[str, OpenView] = {}
        self.home_views: dict[str, dict[str, Any]] = {}
        self.triggers: dict[str, Trigger] = {}
        self.external_emails: set[str] = set()  # people outside the workspace (Slack Connect)
        self.usergroups: dict[str, UserGroup] = {}
        self.bot.team_id = team_id
        self.token_error: str | None = None  # set by revoke_token: every call answers it
        self.channel_creation_restricted = False

    # --- setup helpers (used by tests and the demo, not part of the Web API) -----------
    def use_clock(self, clock: Callable[[], datetime]) -> None:
        """Live in simulated time: timestamps, trigger expiry and rate limits all follow it."""
        self.clock = clock
        self.monotonic = lambda: clock().timestamp()

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def add_user(
        self,
        name: str,
        real_name: str,
        email: str,
        tz: str = "UTC",
        *,
        team_id: str | None = None,
        guest: str | None = None,
    ) -> User:
        """A person; `team_id` another team's (an external user), `guest` "multi" or
        "single" for a multi- or single-channel guest."""
        ZoneInfo(tz)
        user = User(
            id=self._new_id("U"),
            name=name,
            real_name=real_name,
            email=email,
            tz=tz,
            team_id=team_id or self.team_id,
            is_restricted=guest in ("multi", "single"),
            is_ultra_restricted=guest == "single",
        )
        self.users[user.id] = user
        return user

    def add_usergroup(self, handle: str, users: list[str]) -> UserGroup:
        group = UserGroup(id=self._new_id("S"), handle=handle, name=handle, users=list(users))
        self.usergroups[group.id] = group
        return group

    def add_channel(self, name: str, members: list[str], is_private: bool = False) -> Channel:
        check_channel_name(name)
        channel = Channel(
            id=self._new_id("C"),
            name=name,
            is_private=is_private,
            members=set(members),
        )
        self.channels[channel.id] = channel
        return channel

    # --- Slack's edge cases (test controls) ---------------------------------------------
    def deactivate_user(self, user: User) -> None:
        """An admin deactivates someone: they leave every channel; users.info says deleted."""
        user.deleted = True
        for channel in self.channels.values():
            if not channel.is_im:
                channel.members.discard(user.id)

    def archive_channel(self, channel: Channel) -> None:
        channel.is_archived = True

    def unarchive_channel(self, channel: Channel) -> None:
        channel.is_archived = False

    def remove_member(self, channel: Channel, user: User) -> None:
        """Someone is removed from a channel (the bot too: `remove_member(c, ws.bot)`)."""
        channel.members.discard(user.id)

    def add_member(self, channel: Channel, user: User) -> None:
        channel.members.add(user.id)

    def restrict_channel_creation(self, restricted: bool = True) -> None:
        """A workspace setting that stops apps creating channels (restricted_action)."""
        self.channel_creation_restricted = restricted

    def revoke_token(self, error: str = "token_revoked") -> None:
        """The bot token stops working: every call answers `error` until restore_token()."""
        if error not in ("token_revoked", "account_inactive", "invalid_auth"):
            raise ValueError(f"not a token error: {error}")
        self.token_error = error

    def restore_token(self) -> None:
        self.token_error = None

    def share_externally(self, channel: Channel, team_id: str = "T0CUSTOMER") -> None:
        """The channel becomes a Slack Connect channel shared with another team."""
        if channel.is_im:
            raise ValueError("a DM cannot be shared")
        if team_id not in channel.shared_team_ids:
            channel.shared_team_ids.append(team_id)

    def unshare_externally(self, channel: Channel, team_id: str = "T0CUSTOMER") -> None:
        if team_id in channel.shared_team_ids:
            channel.shared_team_ids.remove(team_id)
        for user_id in list(channel.members):
            if self.users[user_id].team_id == team_id:
                channel.members.discard(user_id)

    def accept_shared_invite(self, channel: Channel, team_id: str = "T0CUSTOMER") -> list[User]:
        """The people invited through conversations.inviteShared accept: the channel is
        shared with their team and they join it as external users. Returns them."""
        if not channel.shared_invites:
            raise ValueError(f"no Slack Connect invitation is pending for #{channel.name}")
        self.share_externally(channel, team_id)
        joined = []
        for email in channel.shared_invites:
            user = self.user_by_email(email) or self.add_user(
                email.split("@")[0], email.split("@")[0], email, team_id=team_id
            )
            channel.members.add(user.id)
            joined.append(user)
        channel.shared_invites.clear()
        return joined

    def issue_trigger(self, user: str) -> str:
        trigger_id = f"{next(self._ids)}.{int(self.monotonic() * 1000)}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(user=user, issued=self.monotonic())
        return trigger_id

    def dm_channel(self, user_id: str) -> Channel:
        for channel in self.channels.values():
            if channel.is_im and channel.members == {self.bot.id, user_id}:
                return channel
        channel = Channel(
            id=self._new_id("D"), name=user_id, is_im=True, members={self.bot.id, user_id}
        )
        self.channels[channel.id] = channel
        return channel

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email.lower() == email.lower()), None)

    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def channel_kind(self, args: dict[str, Any]) -> str | None:
        channel = self.channels.get(str(args.get("channel", "")))
        return channel.kind if channel else None

    # --- argument helpers -------------------------------------------------------------
    @staticmethod
    def _required(args: dict[str, Any], name: str) -> str:
        value = args.get(name)
        if value is None or str(value) == "":
            raise SlackError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] missing required field: {name}"]},
            )
        return str(value)

    def _user(self, user_id: str) -> User:
        user = self.users.get(user_id)
        if user is None or user.deleted:
            raise SlackError("user_not_found")
        return user

    def _known_user(self, user_id: str) -> User:
        """A user who exists or existed: deactivated accounts are still known to Slack."""
        user = self.users.get(user_id)
        if user is None:
            raise SlackError("user_not_found")
        return user

    def _channel(self, channel_id: str) -> Channel:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _visible_channel(self, channel_id: str) -> Channel:
        channel = self._channel(channel_id)
        if channel.kind != "public" and self.bot.id not in channel.members:
            raise SlackError("channel_not_found")  # Slack hides private channels entirely
        return channel

    def _next_ts(self) -> str:
        stamp = max(self.clock().timestamp(), self._ts_last + 0.000001)
        self._ts_last = stamp
        return f"{stamp:.6f}"

    def _postable_channel(self, target: str) -> Channel:
        """chat.postMessage takes a channel id, or a user id meaning the app's DM.

        To a deactivated person, real Slack accepts the message into a DM nobody reads
        (python-slack-sdk#1156); the sandbox is stricter and answers channel_not_found."""
        if target in self.users:
            if self.users[target].deleted:
                raise SlackError("channel_not_found")
            return self.dm_channel(target)
        channel = self._visible_channel(target)
        if channel.is_im and any(self.users[m].deleted for m in channel.members):
            raise SlackError("channel_not_found")
        if self.bot.id not in channel.members:
            raise SlackError("not_in_channel")
        if channel.is_archived:
            raise SlackError("is_archived")
        return channel

    @staticmethod
    def _not_archived(channel: Channel, error: str = "is_archived") -> Channel:
        if channel.is_archived:
            raise SlackError(error)
        return channel

    def _message_body(self, args: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
        text = str(args.get("text") or "")
        blocks = check_blocks(args["blocks"]) if args.get("blocks") else None
        if not text and not blocks:
            raise SlackError("no_text")
        if len(text) > MESSAGE_TEXT_MAX:
            raise SlackError("msg_too_long")
        return text, blocks

    # --- auth & users -----------------------------------------------------------------
    def api_auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://sandbox.slack.test/",
            "team": self.team_name,
            "user": "baton",
            "team_id": self.team_id,
            "user_id": self.bot.id,
            "bot_id": self.bot_id,
        }

    def api_users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self._known_user(self._required(args, "user"))
        return {"user": user.as_json(self.clock())}

    def api_users_lookupByEmail(self, args: dict[str, Any]) -> dict[str, Any]:
        user = self.user_by_email(self._required(args, "email"))
        if user is None or user.deleted:
            raise SlackError("users_not_found")
        return {"user": user.as_json(self.clock())}

    # --- user groups ------------------------------------------------------------------
    def api_usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"usergroups": [g.as_json(self.team_id) for g in self.usergroups.values()]}

    def api_usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(self._required(args, "usergroup"))
        if group is None:
            raise SlackError("no_such_subteam")
        return {"users": list(group.users)}

    # --- conversations ----------------------------------------------------------------
    def api_conversations_create(self, args: dict[str, Any]) -> dict[str, Any]:
        name = str(args.get("name") or "")
        check_channel_name(name)
        if self.channel_creation_restricted:
            raise SlackError("restricted_action")
        if self.channel_by_name(name):
            raise SlackError("name_taken")
        private = str(args.get("is_private", "false")).lower() in ("true", "1")
        channel = self.add_channel(name, [self.bot.id], is_private=private)
        channel.creator = self.bot.id
        return {"channel": channel.as_json(self.bot.id, self.team_id)}

    def api_conversations_invite(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        if self.bot.id not in channel.members:
            raise SlackError("not_in_channel")
        if channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        self._not_archived(channel)
        user_ids = [u.strip() for u in self._required(args, "users").split(",") if u.strip()]
        if not user_ids:
            raise SlackError("no_user")
        if len(user_ids) > 1000:
            raise SlackError("too_many_users")
        errors = []
        # A deactivated person fails the whole call here (Slack may still invite the others;
        # the sandbox is stricter, so the bot must cope either way). Slack's documented
        # per-user error for someone who cannot be invited is cant_invite.
        for user_id in user_ids:
            if user_id == self.bot.id:
                errors.append({"user": user_id, "ok": False, "error": "cant_invite_self"})
            elif user_id not in self.users:
                errors.append({"user": user_id, "ok": False, "error": "user_not_found"})
            elif self.users[user_id].deleted:
                errors.append({"user": user_id, "ok": False, "error": "cant_invite"})
            elif user_id in channel.members:
                errors.append({"user": user_id, "ok": False, "error": "already_in_channel"})
        if errors:
            raise SlackError(errors[0]["error"], errors=errors)
        channel.members.update(user_ids)
        return {"channel": channel.as_json(self.bot.id, self.team_id)}

    def api_conversations_inviteShared(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        if self.bot.id not in channel.members:
            raise SlackError("not_in_channel")
        self._not_archived(channel, "channel_archived")
        emails = [e.strip() for e in str(args.get("emails") or "").split(",") if e.strip()]
        if not emails and not args.get("user_ids"):
            raise SlackError("invalid_arguments")
        if any("@" not in email for email in emails):
            raise SlackError("invalid_email")
        channel.shared_invites.extend(emails)
        return {"invite_id": self._new_id("I"), "is_legacy_shared_channel": False}

    def api_conversations_setTopic(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        if self.bot.id not in channel.members:
            raise SlackError("not_in_channel")
        self._not_archived(channel)
        topic = str(args.get("topic") or "")
        if len(topic) > 250:
            raise SlackError("too_long")
        channel.topic = topic
        return {"channel": channel.as_json(self.bot.id, self.team_id)}

    def api_conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        return {"channel": channel.as_json(self.bot.id, self.team_id)}

    def api_conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        active = sorted(m for m in channel.members if not self.users[m].deleted)
        return {"members": active, "response_metadata": {"next_cursor": ""}}

    def api_conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._readable_channel(args)
        bounds, limit = paging.window(args), paging.page_limit(args, paging.HISTORY_LIMIT)
        scope = f"history:{channel.id}"
        start = paging.cursor_position(args, scope)
        include = str(args.get("include_all_metadata", "false")).lower() in ("true", "1")
        found = [
            m
            for m in reversed(channel.messages)
            if m.thread_ts in (None, m.ts)
            and bounds.holds(m.ts)
            and (start is None or Decimal(m.ts) <= start)
        ]
        shown, more = paging.page(found, limit, scope)
        return {"messages": [m.as_json(include) for m in shown], **more}

    def api_conversations_replies(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._readable_channel(args)
        ts = self._required(args, "ts")
        asked = next((m for m in channel.messages if m.ts == ts), None)
        if asked is None:
            raise SlackError("thread_not_found")
        parent_ts = asked.thread_ts or asked.ts  # a reply's ts reads its whole thread
        parent = next(m for m in channel.messages if m.ts == parent_ts)
        bounds, limit = paging.window(args), paging.page_limit(args, paging.REPLIES_LIMIT)
        scope = f"replies:{channel.id}:{parent_ts}"
        start = paging.cursor_position(args, scope)
        include = str(args.get("include_all_metadata", "false")).lower() in ("true", "1")
        replies = [
            m
            for m in channel.messages
            if m.thread_ts == parent_ts
            and m.ts != parent_ts
            and bounds.holds(m.ts)
            and (start is None or Decimal(m.ts) >= start)
        ]
        # The parent always leads the first page, whatever the time bounds.
        thread = replies if start is not None else [parent, *replies]
        shown, more = paging.page(thread, limit, scope)
        return {"messages": [m.as_json(include) for m in shown], **more}

    def _readable_channel(self, args: dict[str, Any]) -> Channel:
        channel = self._visible_channel(self._required(args, "channel"))
        if self.bot.id not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def api_conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("channel"):
            channel = self._channel(str(args["channel"]))
            return {"channel": {"id": channel.id}}
        users = [u.strip() for u in self._required(args, "users").split(",") if u.strip()]
        if len(users) != 1:
            raise SlackError("not_enough_users" if not users else "too_many_users")
        if self._known_user(users[0]).deleted:
            raise SlackError("user_disabled")
        return {"channel": {"id": self.dm_channel(users[0]).id}}

    # --- chat -------------------------------------------------------------------------
    def api_chat_postMessage(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(self._required(args, "channel"))
        text, blocks = self._message_body(args)
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts and not any(m.ts == thread_ts for m in channel.messages):
            raise SlackError("thread_not_found")
        metadata = decode_json_arg(args["metadata"], "metadata") if args.get("metadata") else None
        message = Message(
            ts=self._next_ts(),
            channel=channel.id,
            user=self.bot.id,
            text=text,
            blocks=blocks,
            thread_ts=thread_ts,
            metadata=metadata,
            at=self.clock(),
        )
        channel.messages.append(message)
        return {"channel": channel.id, "ts": message.ts, "message": message.as_json()}

    def api_chat_postEphemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        user = self._user(self._required(args, "user"))
        if self.bot.id not in channel.members and not channel.is_im:
            raise SlackError("not_in_channel")
        self._not_archived(channel)
        if user.id not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks = self._message_body(args)
        self.ephemerals.append(Ephemeral(channel.id, user.id, text, blocks, self.clock()))
        return {"message_ts": self._next_ts()}

    def api_chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        ts = self._required(args, "ts")
        message = next((m for m in channel.messages if m.ts == ts), None)
        if message is None:
            raise SlackError("message_not_found")
        if message.user != self.bot.id:
            raise SlackError("cant_update_message")
        self._not_archived(channel, "is_inactive")
        message.text, message.blocks = self._message_body(args)
        message.edited = True
        return {"channel": channel.id, "ts": ts, "text": message.text}

    def api_chat_getPermalink(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel"))
        ts = self._required(args, "message_ts")
        if not any(m.ts == ts for m in channel.messages):
            raise SlackError("message_not_found")
        return {
            "channel": channel.id,
            "permalink": f"https://sandbox.slack.test/archives/{channel.id}/p{ts.replace('.', '')}",
        }

    # --- views ------------------------------------------------------------------------
    def _exchange_trigger(self, trigger_id: str) -> Trigger:
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        # Three seconds by the workspace's clock and by the real one: a frozen simulated
        # clock must not let a slow listener off.
        late = self.monotonic() - trigger.issued > TRIGGER_TTL_S
        if late or time.monotonic() - trigger.issued_real > TRIGGER_TTL_S:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def _store_view(self, user: str, view: dict[str, Any], root_id: str | None) -> OpenView:
        view_id = self._new_id("V")
        opened = OpenView(
            id=view_id,
            user=user,
            view=view,
            hash=secrets.token_hex(8),
            root_id=root_id or view_id,
            private_metadata=str(view.get("private_metadata", "")),
        )
        self.views[view_id] = opened
        return opened

    def _view_json(self, opened: OpenView) -> dict[str, Any]:
        return {
            **opened.view,
            "id": opened.id,
            "hash": opened.hash,
            "root_view_id": opened.root_id,
            "team_id": self.team_id,
            "private_metadata": opened.private_metadata,
        }

    def api_views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        view = check_view(args.get("view"))
        trigger = self._exchange_trigger(self._required(args, "trigger_id"))
        if view["type"] != "modal":
            raise SlackError("invalid_arguments")
        return {"view": self._view_json(self._store_view(trigger.user, view, None))}

    def api_views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        view = check_view(args.get("view"))
        trigger = self._exchange_trigger(self._required(args, "trigger_id"))
        stack = [v for v in self.views.values() if v.user == trigger.user]
        if not stack:
            raise SlackError("not_found")
        root = stack[-1].root_id
        if sum(1 for v in stack if v.root_id == root) >= VIEW_STACK_MAX:
            raise SlackError("push_limit_reached")
        return {"view": self._view_json(self._store_view(trigger.user, view, root))}

    def api_views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view = check_view(args.get("view"))
        view_id = str(args.get("view_id") or "")
        opened = self.views.get(view_id)
        if opened is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != opened.hash:
            raise SlackError("hash_conflict")
        opened.view = view
        opened.hash = secrets.token_hex(8)
        opened.private_metadata = str(view.get("private_metadata", ""))
        return {"view": self._view_json(opened)}

    def api_views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        view = check_view(args.get("view"))
        user = self._user(self._required(args, "user_id"))
        if view["type"] != "home":
            raise SlackError("invalid_arguments")
        self.home_views[user.id] = view
        return {"view": {**view, "id": self._new_id("V")}}

    # --- bookmarks --------------------------------------------------------------------
    def api_bookmarks_add(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self._visible_channel(self._required(args, "channel_id"))
        if self.bot.id not in channel.members:
            raise SlackError("not_in_channel")
        # bookmarks.add documents no archived-channel error; permission_denied is its
        # "No permission to perform this operation."
        self._not_archived(channel, "permission_denied")
        title = self._required(args, "title")
        kind = self._required(args, "type")
        link = str(args.get("link") or "")
        if kind != "link" or not link.startswith(("http://", "https://")):
            raise SlackError("invalid_link")
        bookmark = {"id": self._new_id("Bk"), "title": title, "link": link, "type": kind}
        channel.bookmarks.append(bookmark)
        return {"bookmark": bookmark}

    # --- view lifecycle driven by the driver ------------------------------------------
    def close_view(self, view_id: str) -> None:
        self.views.pop(view_id, None)

    def views_of(self, user_id: str) -> list[OpenView]:
        return [v for v in self.views.values() if v.user == user_id]
