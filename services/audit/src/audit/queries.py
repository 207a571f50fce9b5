"""Use case: the reads behind the query API and the dashboard."""

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.adapters import alert_store, event_queries, metric_queries
from audit.adapters.event_queries import AccountRecord, EventFilter, EventPage, Position
from audit.domain.alerts import Alert, AlertState
from audit.domain.diagnosis import Diagnosis, diagnose
from audit.domain.figures import Summary
from audit.errors import STORE_UNAVAILABLE, StoreUnavailable
from shared.events import EventType

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Activity:
    address: str | None
    record: AccountRecord
    diagnosis: Diagnosis
    as_of: datetime


class AuditQueries:
    def __init__(self, engine: AsyncEngine, clock: Clock = utc_now) -> None:
        self._engine = engine
        self.clock = clock

    async def events(
        self, where: EventFilter, limit: int, after: Position | None
    ) -> EventPage:
        async with self._connected() as conn:
            return await event_queries.list_events(conn, where, limit, after)

    async def activity_by_email(self, email: str) -> Activity:
        now = self.clock()
        async with self._connected() as conn:
            record = await event_queries.account_by_email(conn, email, now)
        return self._judged(email, record, now)

    async def activity_by_user(self, user_id: UUID) -> Activity | None:
        now = self.clock()
        async with self._connected() as conn:
            record = await event_queries.account_by_user(conn, user_id, now)
        if record is None:
            return None
        address = record.state.email if record.state else None
        return self._judged(address, record, now)

    async def summary(self, window: timedelta) -> Summary:
        async with self._connected() as conn:
            return await metric_queries.summary(conn, self.clock(), window)

    async def timeseries(
        self, event_types: Sequence[EventType], bucket: timedelta, buckets: int
    ) -> list[dict[str, object]]:
        async with self._connected() as conn:
            return await metric_queries.timeseries(
                conn, self.clock(), event_types, bucket, buckets
            )

    async def alerts(
        self, states: Sequence[AlertState] | None, limit: int
    ) -> list[Alert]:
        async with self._connected() as conn:
            return await alert_store.list_alerts(conn, states, limit)

    @asynccontextmanager
    async def _connected(self) -> AsyncIterator[AsyncConnection]:
        try:
            async with self._engine.connect() as conn:
                yield conn
        except STORE_UNAVAILABLE as exc:
            raise StoreUnavailable(type(exc).__name__) from exc

    def _judged(
        self, address: str | None, record: AccountRecord, now: datetime
    ) -> Activity:
        shown = address or "this account"
        diagnosis = diagnose(
            record.state,
            shown,
            record.failed_last_10m,
            now,
            unsettled=record.failed_since_success,
        )
        return Activity(address, record, diagnosis, now)
