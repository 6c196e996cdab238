"""Queries on the outbox: what Baton owes, who is sending it, what Slack accepted.

Life of a row: pending → (claim) sending → sent | unknown | failed, or back to pending
after a rate limit. Every transition out of `sending` names the claim token, so a worker
whose claim was taken over can never overwrite the newer truth.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, func, literal_column, or_, select, tuple_, update
from sqlalchemy.orm import aliased
from sqlmodel import Session

from storage.db import (
    changed,
    column_params,
    due_values,
    insert_for,
    not_skipped,
    require_write_lock,
)
from storage.kinds import MessageKind
from storage.models import OutboxMessage, OutboxStatus
from storage.types import UTCDateTime, utcnow
from storage.wakeups import OWED, announce


@dataclass(frozen=True)
class OwedMessage:
    team_id: str
    dedupe_key: str
    channel: str
    text: str
    due_at: datetime
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    kind: MessageKind = MessageKind.MESSAGE
    account_id: int | None = None
    expires_at: datetime | None = None  # not worth sending after this (e.g. a day's reminder)
    local_tz: str | None = None  # owed at a local hour of this zone (see `rezone`)
    # What it is about (see storage.kinds.Subject).
    subject_type: str | None = None
    subject_id: str | None = None
    milestone_id: int | None = None
    round: int | None = None


@dataclass(frozen=True)
class Claim:
    id: int
    token: str
    team_id: str
    channel: str
    text: str
    blocks: list[dict[str, Any]] | None
    thread_ts: str | None
    due_at: datetime
    # The stored kind: a MessageKind, or one this version does not know (a newer replica's).
    kind: str = MessageKind.MESSAGE
    account_id: int | None = None
    expires_at: datetime | None = None
    dedupe_key: str = ""
    claimed_at: datetime | None = None  # the claim under which Slack may have it
    subject_type: str | None = None
    subject_id: str | None = None
    milestone_id: int | None = None
    round: int | None = None


_CLAIM_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.dedupe_key,
    OutboxMessage.team_id,
    OutboxMessage.channel,
    OutboxMessage.text,
    OutboxMessage.blocks,
    OutboxMessage.thread_ts,
    OutboxMessage.due_at,
    OutboxMessage.kind,
    OutboxMessage.account_id,
    OutboxMessage.expires_at,
    OutboxMessage.claimed_at,
    OutboxMessage.subject_type,
    OutboxMessage.subject_id,
    OutboxMessage.milestone_id,
    OutboxMessage.round,
)


KEYS_PER_READ = 500  # well under SQLite's and PostgreSQL's limits on bound values


def enqueue(session: Session, message: OwedMessage) -> int | None:
    """Record a message as owed: its id, or None if its dedupe key was already owed."""
    statement = _enqueue_statement(insert_for(session))
    session.flush()  # what the unit added goes first, as with session.execute
    # On the connection: the ORM's bulk-insert bookkeeping cost as much as the INSERT.
    # rowcount is unreliable for INSERT … RETURNING on psycopg; a returned id is not.
    new_id = session.connection().execute(statement, _owed_values(message, utcnow())).scalar()
    if new_id is not None:
        announce(session, OWED)
    return new_id


@cache
def _enqueue_statement(insert: Any) -> Any:
    """`enqueue`'s INSERT in the dialect's spelling, built once: planners owe (and owe
    again, idempotently) many messages a tick, and building it cost twice running it."""
    return (
        insert(OutboxMessage)
        .on_conflict_do_nothing(index_elements=["team_id", "dedupe_key"])
        .returning(OutboxMessage.id)
    )


def enqueue_many(session: Session, messages: Sequence[OwedMessage]) -> list[OwedMessage]:
    """Record many messages as owed, in this order, each unless its dedupe key was already
    owed: one read of the keys already there, then one statement executed for the rest.
    Returns those that were not owed yet."""
    owed = _already_owed(session, messages)
    new = [m for m in messages if (m.team_id, m.dedupe_key) not in owed]
    if not new:
        return new  # a plan owed again: nothing to write, nobody to wake
    statement = insert_for(session)(OutboxMessage.__table__).on_conflict_do_nothing(
        index_elements=["team_id", "dedupe_key"]
    )
    now = utcnow()
    session.execute(statement, [_owed_values(m, now) for m in new])
    announce(session, OWED)
    return new


def _already_owed(session: Session, messages: Sequence[OwedMessage]) -> set[tuple[str, str]]:
    """(team, dedupe key) of these messages already in the outbox. Read first because
    RETURNING over a many-row INSERT cost PostgreSQL's planning more than the rows did."""
    keys: dict[str, set[str]] = {}
    for message in messages:
        keys.setdefault(message.team_id, set()).add(message.dedupe_key)
    found: set[tuple[str, str]] = set()
    for team_id, team_keys in keys.items():
        ordered = sorted(team_keys)
        for start in range(0, len(ordered), KEYS_PER_READ):
            chunk = ordered[start : start + KEYS_PER_READ]
            there = session.scalars(_OWED_KEYS, {"team": team_id, "keys": chunk})
            found |= {(team_id, key) for key in there}
    return found


_OWED_KEYS = select(OutboxMessage.dedupe_key).where(  # built once, the keys as parameters
    OutboxMessage.team_id == bindparam("team"),
    OutboxMessage.dedupe_key.in_(bindparam("keys", expanding=True)),
)


def _owed_values(message: OwedMessage, now: datetime) -> dict[str, Any]:
    """The row of a newly owed message (every column named, so that rows batch together)."""
    return {
        "kind": message.kind,
        "account_id": message.account_id,
        "expires_at": message.expires_at,
        "team_id": message.team_id,
        "dedupe_key": message.dedupe_key,
        "channel": message.channel,
        "text": message.text,
        "blocks": message.blocks,
        "thread_ts": message.thread_ts,
        "due_at": message.due_at,
        "subject_type": message.subject_type,
        "subject_id": message.subject_id,
        "milestone_id": message.milestone_id,
        "round": message.round,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "created_at": now,
        "local_tz": None,
        "local_date": None,
        "local_time": None,
    } | _local(message)


def _local(message: OwedMessage) -> dict[str, Any]:
    """The local date and hour a message is owed at, in its zone (see `rezone`)."""
    if not message.local_tz:
        return {}
    local = message.due_at.astimezone(ZoneInfo(message.local_tz))
    return {
        "local_tz": message.local_tz,
        "local_date": local.date(),
        "local_time": f"{local:%H:%M}",
    }


def _literal(status: OutboxStatus) -> Any:
    """A status written into the statement, not bound: a partial index serves a query only
    if the query states the index's condition, and SQLite (like PostgreSQL's generic plans
    for prepared statements) cannot match a bound parameter against it."""
    return literal_column(f"'{status}'")


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _pending(dialect: str) -> Any:
    """status = 'pending', as ix_outbox_pending_due states it. SQLite, without statistics,
    would rather read every pending row (owed for months ahead) through the status index
    and sort them; told that the term is likely true, it takes the due-date range of the
    partial index instead."""
    term = OutboxMessage.status == _literal(OutboxStatus.PENDING)
    return func.likely(term) if dialect == "sqlite" else term


def claim_due(
    session: Session,
    now: datetime,
    limit: int = 50,
    ids: list[int] | None = None,
    skip_teams: Collection[str] = (),
) -> list[Claim]:
    """Atomically move up to `limit` due rows from pending to sending under a fresh token.

    One statement (a CTE feeding an UPDATE … RETURNING). On PostgreSQL the CTE locks its
    rows FOR UPDATE SKIP LOCKED, so concurrent replicas split the work; on SQLite the
    session begins IMMEDIATE, which serialises claimers on the database write lock.
    `ids` narrows the claim to the channels of those rows (to send something right away,
    after what is due before it there); rows of
    `skip_teams` (paused workspaces) stay where they are.
    """
    require_write_lock(session)
    values = {**due_values(now, skip_teams), "limit": limit, "token": secrets.token_hex(16)}
    if ids is not None:
        values["ids"] = list(ids)
    statement = _claim_statement(_dialect(session), ids is not None, bool(skip_teams))
    # On the connection: the claims come back as values, so the session has no objects to
    # keep in step with the UPDATE (the ORM's bookkeeping cost more than the statement).
    rows = session.connection().execute(statement, values).all()
    claims = [Claim(token=values["token"], **row._asdict()) for row in rows]
    return sorted(claims, key=lambda claim: (claim.due_at, claim.id))


@cache
def _claim_statement(dialect: str, narrowed: bool, skipping: bool) -> Any:
    """`claim_due`'s statement, built once for each shape with its values as parameters:
    every tick claims, and building it anew cost several times what running it does."""
    due = select(OutboxMessage.id).where(
        _pending(dialect), OutboxMessage.due_at <= bindparam("now")
    )
    if narrowed:  # and what is due before them in their channels, to keep order
        wanted = select(OutboxMessage.team_id, OutboxMessage.channel).where(
            OutboxMessage.id.in_(bindparam("ids", expanding=True))
        )
        due = due.where(tuple_(OutboxMessage.team_id, OutboxMessage.channel).in_(wanted))
    if skipping:
        due = due.where(not_skipped(OutboxMessage.team_id))
    due = (
        due.order_by(OutboxMessage.due_at, OutboxMessage.id)
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    return (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(due.c.id)), _first_owed_of_its_channel(due))
        .values(
            status=OutboxStatus.SENDING,
            claim_token=bindparam("token"),
            claimed_at=bindparam("now"),
            next_check_at=None,
            attempts=OutboxMessage.attempts + 1,
        )
        .returning(*_CLAIM_COLUMNS)
    )


def _first_owed_of_its_channel(claimed: Any) -> Any:
    """Each channel's messages go in order: a row is claimed only if every message owed to
    its channel before it is claimed with it. One owed earlier but locked or being sent by
    another worker holds the rest of that channel back until it has gone."""
    earlier = aliased(OutboxMessage)
    return ~exists().where(
        earlier.team_id == OutboxMessage.team_id,
        earlier.channel == OutboxMessage.channel,
        # ix_outbox_owed_channel's own condition (see `_literal`): without it SQLite walks
        # the team's every message for each row claimed.
        earlier.status.in_([_literal(OutboxStatus.PENDING), _literal(OutboxStatus.SENDING)]),
        or_(
            earlier.due_at < OutboxMessage.due_at,
            and_(earlier.due_at == OutboxMessage.due_at, earlier.id < OutboxMessage.id),
        ),
        earlier.id.not_in(select(claimed.c.id)),
    )


# ix_outbox_uncertain's own condition.
_UNCERTAIN = OutboxMessage.status.in_(
    [_literal(OutboxStatus.UNKNOWN), _literal(OutboxStatus.SENDING)]
)


def reclaim_uncertain(
    session: Session, now: datetime, stale_before: datetime, hold_until: datetime, limit: int = 100
) -> list[Claim]:
    """Claim rows whose fate at Slack is unknown, to read them back before any resend.

    "unknown": the call timed out or Slack answered 5xx. A "sending" row claimed before
    `stale_before`: its worker died between calling Slack and recording the result
    (a sending worker gives up long before that, so none is still waiting on Slack).
    Either is skipped while its `next_check_at` is ahead (asked again later, or held by a
    reconciler until `hold_until`). `claimed_at` is left alone: it still says when the
    message may have been posted, which bounds the history to read.
    """
    token = secrets.token_hex(16)
    uncertain = (
        select(OutboxMessage.id)
        .where(*_uncertain_now(now, stale_before))
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("uncertain")
    )
    statement = (
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(select(uncertain.c.id)))
        .values(status=OutboxStatus.SENDING, claim_token=token, next_check_at=hold_until)
        .returning(*_CLAIM_COLUMNS)
    )
    require_write_lock(session)
    rows = session.execute(statement).all()
    return [Claim(token=token, **row._asdict()) for row in rows]


def any_uncertain(session: Session, now: datetime, stale_before: datetime) -> bool:
    """Whether `reclaim_uncertain` would find anything: a read, so that a tick with nothing
    to read back takes no write lock for it."""
    values = {"now": now, "stale_before": stale_before}
    return session.execute(_any_uncertain_statement(), values).first() is not None


@cache
def _any_uncertain_statement() -> Any:
    """Built once (building it cost more than running it), the instants as parameters."""
    where = _uncertain_now(bindparam("now"), bindparam("stale_before"))
    return select(OutboxMessage.id).where(*where).limit(1)


def _uncertain_now(now: datetime, stale_before: datetime) -> tuple[Any, ...]:
    return (
        _UNCERTAIN,  # what ix_outbox_uncertain holds, spelled as it does
        (OutboxMessage.status == OutboxStatus.UNKNOWN)
        | (
            (OutboxMessage.status == OutboxStatus.SENDING)
            & (OutboxMessage.claimed_at < stale_before)
        ),
        or_(OutboxMessage.next_check_at.is_(None), OutboxMessage.next_check_at <= now),
    )


def _finish(session: Session, claim: Claim, **values: Any) -> bool:
    """Settle a claimed row, if our token still holds it (one statement per set of columns,
    built once: building it cost more than running it)."""
    params = {"f_id": claim.id, "f_token": claim.token}
    params |= {f"v_{column}": value for column, value in values.items()}
    return changed(session, _finish_statement(tuple(sorted(values))), params)


@cache
def _finish_statement(columns: tuple[str, ...]) -> Any:
    table = OutboxMessage.__table__
    return (
        update(table)
        .where(
            table.c.id == bindparam("f_id"),
            table.c.claim_token == bindparam("f_token"),
            table.c.status == OutboxStatus.SENDING,
        )
        .values(column_params(table, columns, prefix="v_"))
    )


def mark_sent(session: Session, claim: Claim, channel: str, ts: str, now: datetime) -> bool:
    return _finish(
        session,
        claim,
        status=OutboxStatus.SENT,
        sent_channel=channel,
        sent_ts=ts,
        sent_at=now,
        last_error=None,
    )


def release(session: Session, claim: Claim, retry_at: datetime, error: str) -> bool:
    """Slack definitely did not take it (e.g. 429): owe it again from `retry_at`."""
    return _finish(
        session,
        claim,
        status=OutboxStatus.PENDING,
        due_at=retry_at,
        claim_token=None,
        next_check_at=None,
        last_error=error[:255],
    )


def release_all(
    session: Session, claims: Collection[Claim], retry_at: datetime, error: str
) -> None:
    """`release` for several claims in one unit (what waits behind a channel's turn)."""
    for claim in claims:
        release(session, claim, retry_at, error)


def redirect(session: Session, claim: Claim, rerouted: Claim) -> bool:
    """Point a claimed message at someone else (a backup) before it is sent, so the row
    says where it really went (reconciling an unknown send reads that channel)."""
    return _finish(
        session, claim, channel=rerouted.channel, text=rerouted.text, blocks=rerouted.blocks
    )


def mark_unknown(session: Session, claim: Claim, error: str) -> bool:
    """Slack may have taken it (timeout, 5xx): never resend without reconciling first."""
    return _finish(session, claim, status=OutboxStatus.UNKNOWN, last_error=error[:255])


def recheck_later(session: Session, claim: Claim, at: datetime, error: str) -> bool:
    """Still unknown (Slack could not be read back, or not conclusively yet): ask at `at`."""
    return _finish(
        session, claim, status=OutboxStatus.UNKNOWN, next_check_at=at, last_error=error[:255]
    )


def mark_cancelled(session: Session, claim: Claim, reason: str) -> bool:
    """No longer owed (its reason went away between planning and sending)."""
    return _finish(session, claim, status=OutboxStatus.CANCELLED, last_error=reason[:255])


def mark_failed(session: Session, claim: Claim, error: str) -> bool:
    return _finish(session, claim, status=OutboxStatus.FAILED, last_error=error[:255])


def count_by_status(session: Session, team_id: str) -> dict[str, int]:
    rows = session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.team_id == team_id)
        .group_by(OutboxMessage.status)
    ).all()
    return {status: count for status, count in rows}


@dataclass(frozen=True)
class Backlog:
    due: int  # owed, due, and waiting for their turn
    oldest_due: datetime | None
    next_due: datetime | None  # the next one to come due after now


def backlog(session: Session, team_id: str, now: datetime) -> Backlog:
    pending = (OutboxMessage.team_id == team_id, OutboxMessage.status == OutboxStatus.PENDING)
    due, oldest = session.execute(
        select(func.count(), func.min(OutboxMessage.due_at)).where(
            *pending, OutboxMessage.due_at <= now
        )
    ).one()
    upcoming = session.scalar(
        select(func.min(OutboxMessage.due_at)).where(*pending, OutboxMessage.due_at > now)
    )
    return Backlog(due=due, oldest_due=oldest, next_due=upcoming)


def cancel(session: Session, team_id: str, account_id: int, kinds: Collection[MessageKind]) -> int:
    """Stop owing these kinds of message about an account; returns how many were cancelled."""
    return _cancel_pending(
        session,
        team_id,
        OutboxMessage.account_id == account_id,
        OutboxMessage.kind.in_(list(kinds)),
    )


def cancel_keys(session: Session, team_id: str, keys: list[str]) -> int:
    """Stop owing these particular messages (by dedupe key)."""
    return _cancel_pending(session, team_id, OutboxMessage.dedupe_key.in_(keys)) if keys else 0


def _cancel_pending(session: Session, team_id: str, *conditions: Any) -> int:
    statement = (
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            *conditions,
        )
        .values(status=OutboxStatus.CANCELLED)
    )
    return session.execute(statement).rowcount


def sent_message(session: Session, team_id: str, dedupe_key: str) -> tuple[str, str] | None:
    """(channel, ts) of a message once Slack has it, to thread under it or update it."""
    row = session.execute(
        select(OutboxMessage.sent_channel, OutboxMessage.sent_ts).where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.dedupe_key == dedupe_key,
            OutboxMessage.status == OutboxStatus.SENT,
        )
    ).first()
    return (row.sent_channel, row.sent_ts) if row else None


def last_sent_blocks(
    session: Session, team_id: str, account_id: int, kinds: Collection[MessageKind]
) -> list[dict[str, Any]] | None:
    """The blocks of the latest message of these kinds about an account that Slack has
    (None: none was sent)."""
    row = session.execute(
        select(OutboxMessage.blocks)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.account_id == account_id,
            OutboxMessage.kind.in_(list(kinds)),
            OutboxMessage.status == OutboxStatus.SENT,
        )
        .order_by(OutboxMessage.sent_at.desc(), OutboxMessage.id.desc())
        .limit(1)
    ).first()
    return (row.blocks or []) if row else None


def still_owes(
    session: Session, team_id: str, account_id: int, kinds: Collection[MessageKind]
) -> bool:
    """Whether a message of these kinds about an account is still to be sent."""
    waiting = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.HELD)
    return (
        session.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.team_id == team_id,
                OutboxMessage.account_id == account_id,
                OutboxMessage.kind.in_(list(kinds)),
                OutboxMessage.status.in_(waiting),
            )
            .limit(1)
        ).first()
        is not None
    )


def rezone(session: Session, team_id: str, user_id: str, tz_name: str) -> int:
    """Move what is still owed to `user_id` at a local hour to the same local date and hour
    in their new zone (an expiry keeps its distance). Returns how many rows moved."""
    tz = ZoneInfo(tz_name)
    moved = 0
    require_write_lock(session)
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.channel == user_id,
            OutboxMessage.status == OutboxStatus.PENDING,
            OutboxMessage.local_tz.is_not(None),
            OutboxMessage.local_tz != tz_name,
        )
        .with_for_update()
    ).all()
    for row in rows:
        hour, minute = (int(part) for part in (row.local_time or "09:00").split(":"))
        due = datetime.combine(row.local_date or date.today(), time(hour, minute), tzinfo=tz)
        if row.expires_at is not None:
            row.expires_at = due + (row.expires_at - row.due_at)
        row.due_at = due.astimezone(UTC)
        row.local_tz = tz_name
        moved += 1
    return moved


def overdue(
    session: Session, kinds: Collection[MessageKind], before: datetime, limit: int = 500
) -> list[OverdueMessage]:
    """Pending messages that should have gone out before `before`: those of these kinds,
    and any owed at someone's local hour."""
    statement = _overdue_statement(_dialect(session), tuple(sorted(kinds)), limit)
    return _overdue(session.execute(statement, {"before": before}).all())


@cache
def _overdue_statement(dialect: str, kinds: tuple[MessageKind, ...], limit: int) -> Any:
    """`overdue`'s statement for one set of kinds, built once, `before` a parameter."""
    condition = or_(OutboxMessage.kind.in_(list(kinds)), OutboxMessage.local_tz.is_not(None))
    return (
        select(*_CLAIM_COLUMNS, OutboxMessage.local_tz, OutboxMessage.local_date)
        .where(_pending(dialect), OutboxMessage.due_at < bindparam("before"), condition)
        .order_by(OutboxMessage.due_at)
        .limit(limit)
    )


@dataclass(frozen=True)
class OverdueMessage:
    claim: Claim
    local_tz: str | None
    local_date: date | None


def _overdue(rows: Any) -> list[OverdueMessage]:
    return [
        OverdueMessage(
            claim=Claim(token="", **{c.key: getattr(row, c.key) for c in _CLAIM_COLUMNS}),
            local_tz=row.local_tz,
            local_date=row.local_date,
        )
        for row in rows
    ]


def pending_of_round(
    session: Session, team_id: str, kind: MessageKind, milestone_id: int, round_: int
) -> list[OverdueMessage]:
    """Pending messages of this kind about one round of a milestone's nudges."""
    rows = session.execute(
        select(*_CLAIM_COLUMNS, OutboxMessage.local_tz, OutboxMessage.local_date).where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.milestone_id == milestone_id,
            OutboxMessage.round == round_,
            OutboxMessage.kind == kind,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
    ).all()
    return _overdue(rows)


def reschedule(
    session: Session,
    team_id: str,
    message_id: int,
    due_at: datetime,
    text: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    *,
    keep_expiry: bool = False,
) -> bool:
    """Move a still-pending message (and optionally reword it); False if it left pending.
    Its expiry goes unless kept: a late nudge that was moved must now go out."""
    values: dict[str, Any] = {"due_at": due_at}
    if not keep_expiry:
        values["expires_at"] = None
    if text is not None:
        values |= {"text": text, "blocks": blocks}
    return _change_pending(session, team_id, message_id, **values)


def reword(
    session: Session,
    team_id: str,
    message_id: int,
    text: str,
    blocks: list[dict[str, Any]] | None,
) -> bool:
    """Change what a still-pending message says; False if it already left pending."""
    return _change_pending(session, team_id, message_id, text=text, blocks=blocks)


def owed_due_of_kind(
    session: Session,
    kind: MessageKind,
    now: datetime,
    skip_teams: Collection[str] = (),
    limit: int = 500,
) -> list[tuple[str, int, str]]:
    """(team, id, channel) of the pending messages of this kind due by now (ix_outbox_pending_due)."""
    statement = _owed_due_statement(_dialect(session), kind, limit, bool(skip_teams))
    rows = session.execute(statement, due_values(now, skip_teams))
    return [(team_id, i, channel) for team_id, i, channel in rows]


@cache
def _owed_due_statement(dialect: str, kind: MessageKind, limit: int, skipping: bool) -> Any:
    """`owed_due_of_kind`'s statement, built once per shape, the values as parameters."""
    statement = select(OutboxMessage.team_id, OutboxMessage.id, OutboxMessage.channel).where(
        _pending(dialect), OutboxMessage.due_at <= bindparam("now"), OutboxMessage.kind == kind
    )
    if skipping:
        statement = statement.where(not_skipped(OutboxMessage.team_id))
    return statement.order_by(OutboxMessage.due_at, OutboxMessage.id).limit(limit)


def drop_owed(session: Session, team_id: str, message_id: int, reason: str) -> bool:
    """No longer owe a still-pending message, saying why; False if it already left pending."""
    return _change_pending(
        session, team_id, message_id, status=OutboxStatus.CANCELLED, last_error=reason[:255]
    )


def _change_pending(session: Session, team_id: str, message_id: int, **values: Any) -> bool:
    """Set `values` on one message if it is still pending; False if it already left."""
    return changed(
        session,
        update(OutboxMessage)
        .where(
            OutboxMessage.team_id == team_id,
            OutboxMessage.id == message_id,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(**values),
    )


def retime_all(session: Session, messages: list[OwedMessage]) -> int:
    """Move still-pending messages (by dedupe key) to these messages' times, local hour
    included: how many moved."""
    moved = 0
    for message in messages:
        values: dict[str, Any] = {"due_at": message.due_at, "expires_at": message.expires_at}
        values |= _local(message)
        moved += changed(
            session,
            update(OutboxMessage)
            .where(
                OutboxMessage.team_id == message.team_id,
                OutboxMessage.dedupe_key == message.dedupe_key,
                OutboxMessage.status == OutboxStatus.PENDING,
            )
            .values(**values),
        )
    return moved


def next_due(session: Session) -> datetime | None:
    """When the earliest pending message is due (the pending-due index answers it)."""
    return session.scalar(
        select(func.min(OutboxMessage.due_at)).where(OutboxMessage.status == OutboxStatus.PENDING)
    )


# --- held: owed to a channel Baton cannot post in right now (archived, removed) ---------
def hold(session: Session, claim: Claim, error: str, now: datetime) -> bool:
    """Slack refused it because of where it goes, not what it says: keep it owed, untried,
    until the channel is usable again (see `bot.channels.unreachable`)."""
    return _finish(
        session,
        claim,
        status=OutboxStatus.HELD,
        claim_token=None,
        due_at=now,
        last_error=error[:255],
    )


@dataclass(frozen=True)
class Held:
    team_id: str
    channel: str
    error: str
    first_id: int  # the oldest held row: names one incident
    account_ids: tuple[int, ...]


@cache
def _held_due_statement(limit: int) -> Any:
    """`held_due`'s channels, built once, `now` a parameter."""
    return (
        select(
            OutboxMessage.team_id,
            OutboxMessage.channel,
            func.min(OutboxMessage.id),
            func.max(OutboxMessage.last_error),
        )
        # A literal: PostgreSQL's generic plan for a prepared `status = $1` reads the table.
        .where(OutboxMessage.status == _literal(OutboxStatus.HELD))
        .group_by(OutboxMessage.team_id, OutboxMessage.channel)
        .having(func.min(OutboxMessage.due_at) <= bindparam("now", type_=UTCDateTime))
        .limit(limit)
    )


def held_due(session: Session, now: datetime, limit: int = 20) -> list[Held]:
    """Channels (and DMs) with held messages whose next look is due."""
    rows = session.execute(_held_due_statement(limit), {"now": now}).all()
    held = []
    for team_id, channel, first_id, error in rows:
        accounts = session.scalars(
            select(OutboxMessage.account_id)
            .where(
                OutboxMessage.team_id == team_id,
                OutboxMessage.channel == channel,
                OutboxMessage.status == OutboxStatus.HELD,
                OutboxMessage.account_id.is_not(None),
            )
            .distinct()
        ).all()
        held.append(Held(team_id, channel, error or "", first_id, tuple(accounts)))
    return held


def _held_rows(team_id: str, channel: str) -> Any:
    return update(OutboxMessage).where(
        OutboxMessage.team_id == team_id,
        OutboxMessage.channel == channel,
        OutboxMessage.status == OutboxStatus.HELD,
    )


def release_held(session: Session, team_id: str, channel: str, now: datetime, to: str = "") -> int:
    """Owe the held messages again from `now` (to channel `to` when it was replaced)."""
    values: dict[str, Any] = {"status": OutboxStatus.PENDING, "due_at": now}
    if to:  # a new channel: threads of the old one do not exist there
        values |= {"channel": to, "thread_ts": None}
    return session.execute(_held_rows(team_id, channel).values(**values)).rowcount


def defer_held(session: Session, team_id: str, channel: str, until: datetime) -> None:
    """Look at this channel again at `until`, not before: no retry storm."""
    session.execute(_held_rows(team_id, channel).values(due_at=until))


def fail_held(session: Session, team_id: str, channel: str, error: str) -> int:
    return session.execute(
        _held_rows(team_id, channel).values(status=OutboxStatus.FAILED, last_error=error[:255])
    ).rowcount
