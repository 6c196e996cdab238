"""The month-10 close checkpoint: the commercial owner answers "Signed" (the renewal is
signed; it is still recorded as renewed when it takes effect) or "Not yet" (why, and the
new expected close date). Either answer settles the nudge and its escalation; until the
renewal is signed, renewed or churned, `/baton owner` and `week` show it as not closed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session

from bot.accounts.load import Refusal
from bot.outbox.owe import about, deliver_now, enqueue_all
from bot.platform.kit import esc, metadata, submitted
from bot.platform.services import Services
from bot.renewal.blocks import not_yet_modal, not_yet_text, signed_text
from bot.renewal.service import load_milestone
from flows.close import CLOSE_STEP, expected_close, reason_problem
from storage.accounts import locked_account
from storage.checkpoints import close_checkpoint, save_close
from storage.kinds import Subject
from storage.milestones import mark_done
from storage.models import Account, AccountStatus, CloseStatus, Milestone
from storage.outbox import OwedMessage


async def closing(
    services: Services, team_id: str, milestone_id: Any, user_id: str
) -> tuple[Milestone, Account]:
    """The checkpoint and its account, if this person may answer it and it is still open
    to an answer (its cycle current, not signed yet)."""
    milestone, account = await load_milestone(services, team_id, milestone_id, user_id, done=True)
    if milestone.key != CLOSE_STEP:
        raise Refusal("Only the month-10 checkpoint takes this answer.")
    if milestone.renewal_date != account.renewal_date:
        raise Refusal(f"That renewal cycle of {esc(account.name)} has ended.")
    answer = await services.db.run(close_checkpoint, team_id, account.id, milestone.renewal_date)
    if answer is not None and answer.status == CloseStatus.SIGNED:
        raise Refusal(f"The renewal of {esc(account.name)} is already recorded as signed.")
    return milestone, account


async def signed(services: Services, team_id: str, value: Any, user_id: str) -> str:
    milestone, account = await closing(services, team_id, value, user_id)
    note = about(
        services,
        account,
        f"ms-{milestone.id}-signed",
        account.channel_id or user_id,
        signed_text(account, user_id),
        subject=Subject.milestone(milestone.id),
    )
    answer = _Answer(CloseStatus.SIGNED)
    owed = await services.db.run(
        _answer, account, milestone, user_id, services.clock(), answer, note, immediate=True
    )
    if owed is None:
        raise Refusal(f"The renewal of {esc(account.name)} is already signed, renewed or churned.")
    await deliver_now(services, owed)
    return f"Recorded: the renewal of *{esc(account.name)}* is signed."


async def open_not_yet(
    services: Services, team_id: str, milestone_id: Any, user_id: str, trigger_id: str
) -> None:
    milestone, account = await closing(services, team_id, milestone_id, user_id)
    await services.client.views_open(trigger_id=trigger_id, view=not_yet_modal(account, milestone))


@dataclass(frozen=True)
class _Answer:
    status: CloseStatus
    reason: str | None = None
    expected: date | None = None

    @property
    def outcome(self) -> str:
        """What the checkpoint milestone records as its outcome."""
        if self.status == CloseStatus.SIGNED:
            return "Signed"
        return f"Not yet: {self.reason} (expected {self.expected:%d %b %Y})"


@dataclass(frozen=True)
class NotYet:
    milestone: Milestone
    account: Account
    answer: _Answer


async def check_not_yet(
    services: Services, team_id: str, user_id: str, view: dict[str, Any]
) -> NotYet | dict[str, str]:
    """The answer, or each field's problem in one sentence (the modal stays open)."""
    try:
        milestone, account = await closing(
            services, team_id, metadata(view).get("milestone_id"), user_id
        )
    except Refusal as refusal:
        return {"reason": refusal.plain()}
    errors: dict[str, str] = {}
    reason = (submitted(view, "reason") or "").strip()
    if problem := reason_problem(reason):
        errors["reason"] = problem
    expected = expected_close(
        submitted(view, "expected", "selected_date"), services.today(), account.renewal_date
    )
    if isinstance(expected, str):
        errors["expected"] = expected
    if errors:
        return errors
    assert isinstance(expected, date)
    return NotYet(milestone, account, _Answer(CloseStatus.NOT_YET, reason, expected))


async def record_not_yet(services: Services, user_id: str, not_yet: NotYet) -> None:
    milestone, account, answer = not_yet.milestone, not_yet.account, not_yet.answer
    assert answer.reason is not None and answer.expected is not None
    note = about(
        services,
        account,
        f"ms-{milestone.id}-not-yet-{answer.expected}",
        account.channel_id or user_id,
        not_yet_text(account, user_id, answer.reason, answer.expected),
        subject=Subject.milestone(milestone.id),
    )
    owed = await services.db.run(
        _answer, account, milestone, user_id, services.clock(), answer, note, immediate=True
    )
    await deliver_now(services, owed or [])  # None: signed meanwhile


def _answer(
    session: Session,
    account: Account,
    milestone: Milestone,
    user_id: str,
    now: datetime,
    answer: _Answer,
    note: OwedMessage,
) -> list[int] | None:
    """The answer, the checkpoint done (its nudges and escalation go moot) and the
    channel's note, in one unit; None if meanwhile the renewal was recorded as signed, or
    its cycle ended (renewed or churned)."""
    current = locked_account(session, account.team_id, account.id)
    if current.renewal_date != milestone.renewal_date or current.status == AccountStatus.CHURNED:
        return None
    before = close_checkpoint(session, account.team_id, account.id, milestone.renewal_date)
    if before is not None and before.status == CloseStatus.SIGNED:
        return None
    save_close(
        session,
        account,
        answer.status,
        user_id,
        now,
        reason=answer.reason,
        expected_close=answer.expected,
    )
    mark_done(session, account.team_id, milestone.id, user_id, answer.outcome, now)
    return enqueue_all(session, [note])
