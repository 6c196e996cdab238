"""What every feature's listeners share: the services in Bolt's context, refusals told to
the person, the two modal-submission patterns, and slash answers inside Slack's window.

Listeners are module-level functions; they find the services in `context` (put there by
`WithServices`, one global middleware) through `services_of(context)`.

Slack shows an error unless a slash command's ack comes within 3 seconds. An answer that
needs Slack (users.info, user groups) may be slowed by rate limits: it gets ACK_BUDGET_S,
then the ack goes out and the answer follows through respond(). Refusals after the ack go
through respond() too, which works in any channel (chat.postEphemeral needs Baton in it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_bolt.async_app import AsyncAck, AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.platform.commands import Answer, Handler, Slash
from bot.platform.refusal import Refusal
from bot.platform.services import Services

SERVICES = "services"
ACK_BUDGET_S = 1.5
T = TypeVar("T")
WORKING = "Working on it…"
SLACK_TROUBLE = "Slack did not answer me in time; please try again in a minute."
log = logging.getLogger(__name__)

Listener = Callable[..., Awaitable[None]]


class WithServices(AsyncMiddleware):
    """Hands every listener the process's services, in `context["services"]`."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # noqa: A002 (Bolt's keyword)
    ) -> BoltResponse | None:
        req.context[SERVICES] = self.services
        # Bolt made a client for this request; ours keeps to the rate budget.
        req.context["client"] = self.services.client
        return await next()

    @property
    def name(self) -> str:
        return "WithServices"


def services_of(context: dict) -> Services:
    return context[SERVICES]


# --- clicks -----------------------------------------------------------------------------
def ids(body: dict) -> tuple[str, str, str | None]:
    """A click's workspace, clicker and button value."""
    action = body["actions"][0]
    return body["team"]["id"], body["user"]["id"], action.get("value")


async def explain(
    respond: AsyncRespond, work: Awaitable[None], client: AsyncWebClient, user: str
) -> None:
    """Run the work; a refusal becomes a sentence only the clicker sees."""
    try:
        await work
    except Refusal as refusal:
        await tell(respond, client, user, str(refusal))


async def tell(respond: AsyncRespond, client: AsyncWebClient, user: str, text: str) -> None:
    """Ephemeral, under the message clicked; a click without a response_url (one in a
    modal or the App Home) gets a DM instead."""
    if respond.response_url is None:
        await client.chat_postMessage(channel=user, text=text)
    else:
        await respond(text=text, response_type="ephemeral", replace_original=False)


def does(flow: Callable[[Services, str, str | None, str], Awaitable[None]]) -> Listener:
    """A button that does the flow's work (team, button value, clicker)."""

    async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond, context: dict) -> None:
        await ack()
        services = services_of(context)
        team, user, value = ids(body)
        await explain(respond, flow(services, team, value, user), services.client, user)

    return handler


def opens_with(flow: Callable[..., Awaitable[None]]) -> Listener:
    """A button that opens the flow's modal (team, button value, clicker, trigger)."""

    async def handler(ack: AsyncAck, body: dict, respond: AsyncRespond, context: dict) -> None:
        await ack()
        services = services_of(context)
        team, user, value = ids(body)
        work = flow(services, team, value, user, body["trigger_id"])
        await explain(respond, work, services.client, user)

    return handler


# --- modal submissions ------------------------------------------------------------------
def validated(
    check: Callable[..., Any], save: Callable[..., Any], announce: Callable[..., Any]
) -> Listener:
    """Check (inline errors keep the modal open), save before the modal closes, announce."""

    async def handler(ack: AsyncAck, body: dict, view: dict, context: dict) -> None:
        services = services_of(context)
        team, user = body["team"]["id"], body["user"]["id"]
        result = await check(services, team, user, view)
        if isinstance(result, dict):
            await ack(response_action="errors", errors=result)
            return
        saved = await save(services, result)
        await ack()
        await announce(services, result, saved)

    return handler


def checked(problems: Callable[[dict], dict], act: Callable[..., Awaitable[None]]) -> Listener:
    """Inline errors from the view alone; else act, and close the modal once the act's
    unit of work has committed (so a crash after the ack loses nothing), or after
    ACK_BUDGET_S if it needs Slack first and Slack is slow, whichever comes first."""

    async def handler(ack: AsyncAck, body: dict, view: dict, context: dict) -> None:
        errors = problems(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        work = act(services_of(context), body["team"]["id"], body["user"]["id"], view)
        await ack_after(work, ack)

    return handler


async def ack_after(work: Awaitable[T], ack: Callable[[], Awaitable[object]]) -> T:
    """Run `work` and ack once it is done (its unit committed, so a crash after the ack
    loses nothing), or after ACK_BUDGET_S if it is slow; then finish it. Its exception,
    if any, comes after the ack."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task}, timeout=ACK_BUDGET_S)
    await ack()
    return await task


# --- slash commands ---------------------------------------------------------------------
async def answer_in_time(ack: AsyncAck, respond: AsyncRespond, work: Awaitable[Answer]) -> None:
    """Answer in the ack when the work is quick; else ack at once and answer later."""
    task = asyncio.ensure_future(_settled(work))
    done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_S)
    if done:
        text, blocks = task.result()
        await ack(response_type="ephemeral", text=text, blocks=blocks or None)
        return
    await ack(response_type="ephemeral", text=WORKING)
    text, blocks = await task
    await respond(response_type="ephemeral", text=text, blocks=blocks or None)


async def _settled(work: Awaitable[Answer]) -> Answer:
    try:
        return await work
    except SlackApiError as exc:
        log.warning("a /baton answer needed Slack, which said %s", exc.response.get("error"))
        return SLACK_TROUBLE, []


def answered(work: Callable[[Services, str, dict], Awaitable[Answer]]) -> Handler:
    """A subcommand that answers (in time) what the work says; a refusal is the answer."""

    async def handler(call: Slash) -> None:
        await answer_in_time(
            call.ack, call.respond, _refused(work(call.services, call.text, call.command))
        )

    return handler


async def _refused(work: Awaitable[Answer]) -> Answer:
    try:
        return await work
    except Refusal as refusal:
        return str(refusal), []
