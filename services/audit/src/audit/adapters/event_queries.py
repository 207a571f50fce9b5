"""Reads of audit rows and account states for the query API."""

from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.adapters.projection_store import account_from_row
from audit.adapters.tables import accounts, events
from audit.domain.account import AccountState
from audit.domain.audit_event import AuditEvent, normalise_email
from shared.events import EventType

_EVENT_FIELDS = tuple(f.name for f in fields(AuditEvent))
FAILED_LOGIN_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class EventFilter:
    user_id: UUID | None = None
    email: str | None = None
    event_type: EventType | None = None
    success: bool | None = None
    ip: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Position:
    """Where a page ended; pages run newest first by (occurred_at, event_id)."""

    occurred_at: datetime
    event_id: UUID


@dataclass(frozen=True)
class EventPage:
    items: list[AuditEvent]
    next_position: Position | None


async def list_events(
    conn: AsyncConnection,
    where: EventFilter,
    limit: int,
    after: Position | None = None,
) -> EventPage:
    conditions = _conditions(where)
    if after is not None:
        conditions.append(
            or_(
                events.c.occurred_at < after.occurred_at,
                and_(
                    events.c.occurred_at == after.occurred_at,
                    events.c.event_id < after.event_id,
                ),
            )
        )
    query = (
        select(events)
        .where(*conditions)
        .order_by(events.c.occurred_at.desc(), events.c.event_id.desc())
        .limit(limit + 1)
    )
    rows = [event_from_row(row._mapping) for row in await conn.execute(query)]
    if len(rows) <= limit:
        return EventPage(rows, None)
    last = rows[limit - 1]
    return EventPage(rows[:limit], Position(last.occurred_at, last.event_id))


def _conditions(where: EventFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.user_id is not None:
        conditions.append(events.c.user_id == where.user_id)
    if where.email is not None:
        conditions.append(func.lower(events.c.email) == normalise_email(where.email))
    if where.event_type is not None:
        conditions.append(events.c.event_type == where.event_type.value)
    if where.success is not None:
        conditions.append(events.c.success == where.success)
    if where.ip is not None:
        conditions.append(events.c.ip == where.ip)
    if where.since is not None:
        conditions.append(events.c.occurred_at >= where.since)
    if where.until is not None:
        conditions.append(events.c.occurred_at < where.until)
    return conditions


def event_from_row(row: Any) -> AuditEvent:
    return AuditEvent(**{name: row[name] for name in _EVENT_FIELDS})


@dataclass(frozen=True)
class AccountRecord:
    """An account's state and what the activity view adds to it."""

    state: AccountState | None
    failed_last_10m: int
    last_attempt_trace_id: str | None
    recent: list[AuditEvent]
    failed_since_success: int
    """Of ``failed_last_10m``, those after the newest successful login or
    completed reset: the failures identity still counts towards a lock."""


async def account_by_email(
    conn: AsyncConnection, email: str, now: datetime, recent: int = 10
) -> AccountRecord:
    key = normalise_email(email) or ""
    row = (
        await conn.execute(select(accounts).where(accounts.c.account_key == key))
    ).first()
    state = account_from_row(row._mapping) if row else None
    user_id = state.user_id if state else None
    return await _record(conn, state, key, user_id, now, recent)


async def account_by_user(
    conn: AsyncConnection, user_id: UUID, now: datetime, recent: int = 10
) -> AccountRecord | None:
    query = (
        select(accounts)
        .where(accounts.c.user_id == user_id)
        .order_by(accounts.c.account_key.like("user:%"), accounts.c.account_key)
        .limit(1)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    state = account_from_row(row._mapping)
    key = normalise_email(state.email)
    return await _record(conn, state, key, user_id, now, recent)


async def _record(
    conn: AsyncConnection,
    state: AccountState | None,
    key: str | None,
    user_id: UUID | None,
    now: datetime,
    recent: int,
) -> AccountRecord:
    mine: list[ColumnElement[bool]] = []
    if key:
        mine.append(func.lower(events.c.email) == key)
    if user_id is not None:
        mine.append(events.c.user_id == user_id)
    if not mine:
        return AccountRecord(state, 0, None, [], 0)
    failed_logins = [
        or_(*mine),
        events.c.event_type == EventType.LOGIN_FAILED.value,
        events.c.occurred_at > now - FAILED_LOGIN_WINDOW,
        events.c.occurred_at <= now,
    ]
    count = select(func.count()).select_from(events)
    failed = int(await conn.scalar(count.where(*failed_logins)) or 0)
    unsettled = failed
    settled_at = _settled_at(state)
    if failed and settled_at is not None:
        unsettled = int(
            await conn.scalar(
                count.where(*failed_logins, events.c.occurred_at > settled_at)
            )
            or 0
        )
    latest = await conn.execute(
        select(events)
        .where(or_(*mine))
        .order_by(events.c.occurred_at.desc(), events.c.event_id.desc())
        .limit(recent)
    )
    recent_events = [event_from_row(row._mapping) for row in latest]
    trace_id = None
    if state is not None and state.last_attempt_event_id is not None:
        trace_id = await conn.scalar(
            select(events.c.trace_id).where(
                events.c.event_id == state.last_attempt_event_id
            )
        )
    return AccountRecord(state, failed, trace_id, recent_events, unsettled)


def _settled_at(state: AccountState | None) -> datetime | None:
    """When identity last reset the count of consecutive failures."""
    if state is None:
        return None
    moments = [at for at in (state.last_login_at, state.reset_at) if at is not None]
    return max(moments, default=None)
