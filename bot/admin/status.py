"""`/baton status`: how Baton itself is doing in this workspace, for those who run it
(BATON_MANAGERS members and workspace admins): Slack's view of the token, what is owed,
and every subject whose step keeps failing, with when it is tried again."""

from __future__ import annotations

from datetime import datetime

from bot.people.permissions import may_see_status
from bot.platform.kit import esc
from bot.platform.services import Services
from flows.crm.mapping import CRM_NAMES
from storage.accounts import accounts_by_ids, count_setup_due
from storage.crm import sync_states
from storage.faults import faults_of
from storage.models import CrmSync, Fault, OutboxStatus
from storage.outbox import Backlog, backlog, count_by_status
from storage.workspaces import get_workspace

REFUSED = "`/baton status` is for Baton's operators: BATON_MANAGERS members and workspace admins."


async def status_answer(services: Services, team_id: str, user_id: str) -> str:
    if not await may_see_status(services, user_id):
        return REFUSED
    return "\n".join(await status_lines(services, team_id))


async def status_lines(services: Services, team_id: str) -> list[str]:
    """The status, line by line, in Slack's markup (`baton status` prints it plain)."""
    db, now = services.db, services.clock()
    workspace = await db.run(get_workspace, team_id)
    counts = await db.run(count_by_status, team_id)
    faults, total = await db.run(faults_of, team_id)
    account_ids = [int(f.subject_id) for f in faults if f.subject == "account"]
    names = {a.id: a.name for a in await db.run(accounts_by_ids, team_id, account_ids)}
    waiting = await db.run(backlog, team_id, now)
    setup = await db.run(count_setup_due, team_id)
    lines = [
        ":stethoscope: *Baton status*",
        _slack_line(workspace),
        _outbox_line(counts),
        _backlog_line(waiting, setup, services.settings.baton_tick_seconds),
    ]
    if not faults:
        lines.append("• *Problems:* none: every account and message is going through.")
    else:
        lines.append(f"• *Problems ({total}), newest first:*")
        lines += [f"   – {_fault_line(f, names)}" for f in faults]
        if total > len(faults):
            lines.append(f"   …and {total - len(faults)} more.")
    lines += [_sync_line(state) for state in await db.run(sync_states, team_id)]
    groups = services.groups.refreshed_at
    if services.settings.manager_groups | services.settings.creator_groups:
        read = f"read {_when(groups)}" if groups else "not read yet"
        lines.append(f"• *User groups* (managers, creators): {read}.")
    return lines


def _slack_line(workspace) -> str:  # noqa: ANN001
    if workspace is None or workspace.paused_at is None:
        return "• *Slack:* the token works."
    return (
        f"• *Slack:* delivery is *paused* since {_when(workspace.paused_at)}: Slack refuses "
        f"the token ({esc(workspace.paused_error or 'refused')}). Nothing owed is lost; it "
        "goes out once the app is reinstalled or the token works again (checked every 5 "
        "minutes)."
    )


def _outbox_line(counts: dict[str, int]) -> str:
    parts = [
        f"{counts.get(OutboxStatus.PENDING, 0)} owed",
        f"{counts.get(OutboxStatus.SENDING, 0)} sending",
        f"{counts.get(OutboxStatus.UNKNOWN, 0)} being checked against Slack",
        f"{counts.get(OutboxStatus.FAILED, 0)} refused by Slack",
        f"{counts.get(OutboxStatus.SENT, 0)} sent",
    ]
    return "• *Messages:* " + ", ".join(parts) + "."


def _backlog_line(waiting: Backlog, setup: int, tick_seconds: float) -> str:
    accounts = "1 account" if setup == 1 else f"{setup} accounts"
    parts = [f"{accounts} waiting for set-up in Slack"]
    if waiting.due:
        parts.append(
            f"{waiting.due} messages due and waiting for their turn (the oldest due "
            f"{_when(waiting.oldest_due)})"
            if waiting.oldest_due
            else f"{waiting.due} messages due"
        )
    else:
        parts.append("no message waiting")
    if waiting.next_due:
        parts.append(f"the next one due {_when(waiting.next_due)}")
    return f"• *Backlog:* {'; '.join(parts)}. Due work is looked at every {tick_seconds:g} s."


def _sync_line(state: CrmSync) -> str:
    name = CRM_NAMES.get(state.crm, state.crm)
    read = (
        f"changes read up to {_when(state.synced_until)}"
        if state.synced_until
        else "nothing read yet"
    )
    if state.last_error:
        return (
            f"• *{name} sync:* the last pass ({_when(state.last_run_at)}) failed: "
            f"`{esc(state.last_error.splitlines()[0][:200])}`; {read}."
        )
    return f"• *{name} sync:* last pass {_when(state.last_run_at)}; {read}."


def _fault_line(fault: Fault, names: dict[int, str]) -> str:
    times = "once" if fault.count == 1 else f"{fault.count} times in a row"
    error = esc(fault.error.splitlines()[0][:200]) if fault.error else "unknown error"
    return (
        f"{_subject(fault, names)}: {esc(fault.step)} failed {times} (last "
        f"{_when(fault.last_at)}): `{error}`. Next try {_when(fault.retry_at)}."
    )


def _subject(fault: Fault, names: dict[int, str]) -> str:
    if fault.subject == "account":
        name = names.get(int(fault.subject_id))
        return (
            f"account *{esc(name)}* (id {fault.subject_id})"
            if name
            else (f"account id {fault.subject_id}")
        )
    if fault.subject == "deal":
        crm, _, deal_id = fault.subject_id.partition(":")
        crm_name = CRM_NAMES.get(crm, crm)
        return f"the {esc(crm_name)} deal {esc(deal_id)}"
    if fault.subject == "digest":
        return f"the Monday digest of <@{esc(fault.subject_id)}>"
    return f"{esc(fault.subject)} {esc(fault.subject_id)}"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    return f"{moment:%d %b %H:%M} UTC"
