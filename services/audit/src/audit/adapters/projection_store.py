"""Writes audit events: rows, per-minute counts, account states.

The live consumer writes each batch with :func:`save_batch`: only events
whose ``event_id`` was not stored yet count, so replaying a batch, or one
event twice, changes nothing; two writers racing on the same new event make
one of them fail on the primary key and retry, never count it twice. The
rebuild uses the same pieces but keeps counts and account states in memory
until the end (:class:`MinuteBuckets`, :class:`AccountFold`).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from audit.adapters.bulk_rows import BulkRows
from audit.adapters.tables import accounts, events, minute_counts
from audit.adapters.upsert import upsert_into
from audit.domain.account import AccountState, account_key, fold, user_key
from audit.domain.audit_event import AuditEvent

_EVENT_FIELDS = tuple(f.name for f in fields(AuditEvent))
_ACCOUNT_FIELDS = tuple(f.name for f in fields(AccountState))


async def save_batch(conn: AsyncConnection, batch: Sequence[AuditEvent]) -> int:
    """Project ``batch`` inside the open transaction; answer how many were new."""
    unique = list({e.event_id: e for e in reversed(batch)}.values())[::-1]
    if not unique:
        return 0
    bulk = BulkRows(conn)
    stored = {
        row[0]
        for row in await bulk.select_in(
            events, ["event_id"], {"event_id": [e.event_id for e in unique]}
        )
    }
    fresh = [e for e in unique if e.event_id not in stored]
    if not fresh:
        return 0
    await insert_events(bulk, fresh)
    await add_counts(conn, MinuteBuckets(fresh))
    folded = AccountFold(await _load_accounts(bulk, fresh))
    folded.add(fresh)
    await write_accounts(bulk, folded.changed())
    return len(fresh)


async def insert_events(
    bulk: BulkRows, batch: Iterable[AuditEvent], *, skip_stored: bool = False
) -> None:
    await bulk.insert(
        events,
        _EVENT_FIELDS,
        ([getattr(e, name) for name in _EVENT_FIELDS] for e in batch),
        skip_conflicts=skip_stored,
    )


@dataclass
class _Bucket:
    count: int = 0
    duration_ms_sum: float = 0.0
    duration_count: int = 0


class MinuteBuckets:
    """Events counted per minute, type and outcome, with login durations."""

    def __init__(self, batch: Iterable[AuditEvent] = ()) -> None:
        self._buckets: dict[tuple[datetime, str, bool], _Bucket] = defaultdict(_Bucket)
        self.add(batch)

    def add(self, batch: Iterable[AuditEvent]) -> None:
        for event in batch:
            bucket = self._buckets[
                (minute_of(event.occurred_at), event.event_type, event.success)
            ]
            bucket.count += 1
            if event.is_login and event.duration_ms is not None:
                bucket.duration_ms_sum += event.duration_ms
                bucket.duration_count += 1

    def rows(self) -> list[dict[str, Any]]:
        return [
            {
                "bucket_start": start,
                "event_type": kind,
                "success": success,
                "count": b.count,
                "duration_ms_sum": b.duration_ms_sum,
                "duration_count": b.duration_count,
            }
            for (start, kind, success), b in sorted(self._buckets.items())
        ]


async def add_counts(conn: AsyncConnection, buckets: MinuteBuckets) -> None:
    """Add the buckets to the stored counts (a new minute starts at zero)."""
    rows = buckets.rows()
    if not rows:
        return
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


class AccountFold:
    """Folds events into account states; an event naming only a user joins
    the account that user already has, if any."""

    def __init__(self, states: dict[str, AccountState] | None = None) -> None:
        self._states = states if states is not None else {}
        self._by_user = {
            s.user_id: k for k, s in self._states.items() if s.user_id is not None
        }
        self._changed: set[str] = set()

    def add(self, batch: Iterable[AuditEvent]) -> None:
        grouped: dict[str, list[AuditEvent]] = defaultdict(list)
        for event in batch:
            key = self._resolve(event)
            if key is None:
                continue
            grouped[key].append(event)
            if event.user_id is not None:
                self._by_user.setdefault(event.user_id, key)
        for key, mine in grouped.items():
            state = self._states.get(key) or AccountState(account_key=key)
            self._states[key] = fold(state, mine)
        self._changed.update(grouped)

    def changed(self) -> list[AccountState]:
        return [self._states[key] for key in sorted(self._changed)]

    def _resolve(self, event: AuditEvent) -> str | None:
        if event.email_key is None and event.user_id is not None:
            return self._by_user.get(event.user_id, user_key(event.user_id))
        return account_key(event)


async def write_accounts(bulk: BulkRows, states: Iterable[AccountState]) -> None:
    await bulk.upsert(
        accounts,
        "account_key",
        _ACCOUNT_FIELDS,
        ([getattr(s, name) for name in _ACCOUNT_FIELDS] for s in states),
    )


async def _load_accounts(
    bulk: BulkRows, batch: Sequence[AuditEvent]
) -> dict[str, AccountState]:
    keys = {k for k in map(account_key, batch) if k is not None}
    user_ids = {e.user_id for e in batch if e.user_id is not None}
    if not keys:
        return {}
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
