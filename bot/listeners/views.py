"""Modal submissions and closes."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.checkins import service as checkin_flow
from bot.checkins.blocks import CHECKIN_VIEW, CLARIFY_VIEW, RATING_VIEW
from bot.handoff import packet as packet_flow
from bot.handoff.blocks import MARKETING_VIEW, NEW_ACCOUNT_VIEW, PACKET_VIEW
from bot.handoff.new_account import check_new_account, create_new_account
from bot.platform.services import Services
from bot.renewal import flag, outcome
from bot.renewal import service as renewal_flow
from bot.renewal.blocks import CHURNED_VIEW, DONE_VIEW, FLAG_VIEW, RENEWED_VIEW


def register(app: AsyncApp, services: Services) -> None:
    def validated(check, save, announce):  # noqa: ANN001, ANN202
        """Check (inline errors keep the modal open), save before the modal closes, announce."""

        async def handler(ack: AsyncAck, body: dict, view: dict) -> None:
            team, user = body["team"]["id"], body["user"]["id"]
            result = await check(services, team, user, view)
            if isinstance(result, dict):
                await ack(response_action="errors", errors=result)
                return
            saved = await save(services, result)
            await ack()
            await announce(services, result, saved)

        return handler

    submit_packet = validated(packet_flow.check_submission, packet_flow.save, packet_flow.announce)

    async def close_packet(ack: AsyncAck, body: dict, view: dict) -> None:
        await ack()
        await packet_flow.keep_draft(services, body["team"]["id"], body["user"]["id"], view)

    for callback_id in (PACKET_VIEW, MARKETING_VIEW):
        app.view(callback_id)(submit_packet)
        app.view_closed(callback_id)(close_packet)

    app.view(CHECKIN_VIEW)(
        validated(checkin_flow.check_checkin, checkin_flow.save, checkin_flow.announce)
    )

    def checked(problems, act):  # noqa: ANN001, ANN202
        async def handler(ack: AsyncAck, body: dict, view: dict) -> None:
            errors = problems(view)
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            await ack()
            await act(services, body["team"]["id"], body["user"]["id"], view)

        return handler

    app.view(CLARIFY_VIEW)(checked(checkin_flow.clarify_problems, checkin_flow.submit_clarify))
    app.view(RATING_VIEW)(checked(checkin_flow.rating_problems, checkin_flow.submit_rating))
    app.view(DONE_VIEW)(checked(renewal_flow.done_problems, renewal_flow.submit_done))
    app.view(FLAG_VIEW)(checked(flag.problems, flag.submit_flag))
    app.view(CHURNED_VIEW)(checked(outcome.churn_problems, outcome.submit_churned))

    @app.view(RENEWED_VIEW)
    async def renewed(ack: AsyncAck, body: dict, view: dict) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        result = await outcome.check_renewed(services, team, user, view)
        if isinstance(result, dict):
            await ack(response_action="errors", errors=result)
            return
        await ack()
        await outcome.renewed_from_view(services, result, team, user)

    @app.view(NEW_ACCOUNT_VIEW)
    async def new_account(ack: AsyncAck, body: dict, view: dict) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        result = await check_new_account(services, team, user, view)
        if isinstance(result, dict):
            await ack(response_action="errors", errors=result)
            return
        await ack()
        await create_new_account(services, team, user, result)
