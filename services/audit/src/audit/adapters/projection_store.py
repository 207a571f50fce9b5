"""Writes a batch of audit events: rows, per-minute counts, account states.

Everything a batch changes is written in the caller's transaction, and only
events whose ``event_id`` was not stored yet count: replaying a batch, or one
event twice, changes nothing. Two writers racing on the same new event make
one of them fail on the primary key and retry, never count it twice.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection

from audit.adapters.bulk_rows import BulkRows
from audit.adapters.tables import accounts, events, minute_counts
from audit.adapters.upsert import upsert_into
from audit.domain.account import AccountState, account_key, fold, user_key
from audit.domain.audit_event import AuditEvent

_EVENT_FIELDS = tuple(f.name for f in fields(AuditEvent))
_ACCOUNT_FIELDS = tuple(f.name for f in fields(AccountState))


@dataclass
class _Bucket:
    count: int = 0
    duration_ms_sum: float = 0.0
    duration_count: int = 0


async def save_batch(conn: AsyncConnection, batch: Sequence[AuditEvent]) -> int:
    """Project ``batch`` inside the open transaction; answer how many were new."""
    unique = list({e.event_id: e for e in reversed(batch)}.values())[::-1]
    if not unique:
        return 0
    bulk = BulkRows(conn)
    fresh = await _insert_events(bulk, unique)
    if fresh:
        await _add_counts(conn, fresh)
        await _fold_accounts(bulk, fresh)
    return len(fresh)


async def _insert_events(
    bulk: BulkRows, batch: Sequence[AuditEvent]
) -> list[AuditEvent]:
    stored = {
        row[0]
        for row in await bulk.select_in(
            events, ["event_id"], {"event_id": [e.event_id for e in batch]}
        )
    }
    fresh = [e for e in batch if e.event_id not in stored]
    await bulk.insert(
        events,
        _EVENT_FIELDS,
        ([getattr(e, name) for name in _EVENT_FIELDS] for e in fresh),
    )
    return fresh


async def _add_counts(conn: AsyncConnection, batch: Iterable[AuditEvent]) -> None:
    buckets: dict[tuple[datetime, str, bool], _Bucket] = defaultdict(_Bucket)
    for event in batch:
        bucket = buckets[
            (minute_of(event.occurred_at), event.event_type, event.success)
        ]
        bucket.count += 1
        if event.is_login and event.duration_ms is not None:
            bucket.duration_ms_sum += event.duration_ms
            bucket.duration_count += 1
    rows = [
        {
            "bucket_start": start,
            "event_type": kind,
            "success": success,
            "count": b.count,
            "duration_ms_sum": b.duration_ms_sum,
            "duration_count": b.duration_count,
        }
        for (start, kind, success), b in sorted(buckets.items())
    ]
    insert = upsert_into(conn.dialect.name, minute_counts)
    table = minute_counts.c
    statement = insert.on_conflict_do_update(
        index_elements=[table.bucket_start, table.event_type, table.success],
        set_={
            "count": table.count + insert.excluded.count,
            "duration_ms_sum": table.duration_ms_sum + insert.excluded.duration_ms_sum,
            "duration_count": table.duration_count + insert.excluded.duration_count,
        },
    )
    await conn.execute(statement, rows)


async def _fold_accounts(bulk: BulkRows, batch: Sequence[AuditEvent]) -> None:
    keys = {k for k in map(account_key, batch) if k is not None}
    if not keys:
        return
    user_ids = {e.user_id for e in batch if e.user_id is not None}
    states = await _load_accounts(bulk, keys, user_ids)
    by_user = {s.user_id: k for k, s in states.items() if s.user_id is not None}

    grouped: dict[str, list[AuditEvent]] = defaultdict(list)
    for event in batch:
        key = _resolve(event, by_user)
        if key is None:
            continue
        grouped[key].append(event)
        if event.user_id is not None:
            by_user.setdefault(event.user_id, key)

    changed = [
        fold(states.get(key) or AccountState(account_key=key), mine)
        for key, mine in sorted(grouped.items())
    ]
    await bulk.upsert(
        accounts,
        "account_key",
        _ACCOUNT_FIELDS,
        ([getattr(s, name) for name in _ACCOUNT_FIELDS] for s in changed),
    )


def _resolve(event: AuditEvent, by_user: dict[UUID, str]) -> str | None:
    """The account an event belongs to; one without address joins its user's."""
    if event.email_key is None and event.user_id is not None:
        return by_user.get(event.user_id, user_key(event.user_id))
    return account_key(event)


async def _load_accounts(
    bulk: BulkRows, keys: set[str], user_ids: set[UUID]
) -> dict[str, AccountState]:
    rows = await bulk.select_in(
        accounts,
        _ACCOUNT_FIELDS,
        {"account_key": sorted(keys), "user_id": sorted(user_ids, key=str)},
    )
    states = (AccountState(*row) for row in rows)
    return {state.account_key: state for state in states}


def account_from_row(row: Any) -> AccountState:
    return AccountState(**{name: row[name] for name in _ACCOUNT_FIELDS})


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)
