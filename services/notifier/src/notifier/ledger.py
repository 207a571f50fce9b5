"""The delivery ledger: one row per event that asked for a mail.

Every write is its own committed transaction, so that what the ledger says
is durable before the Kafka offset of the event moves on.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from uuid import UUID

from asyncpg import PostgresError
from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Insert,
    Integer,
    MetaData,
    String,
    Table,
    Update,
    Uuid,
    insert,
    select,
    update,
)
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.domain.delivery import Delivery, DeliveryState
from notifier.domain.notices import Notice
from notifier.errors import DeliveryInFlight, LedgerUnavailable

MAX_ERROR_CHARS = 500

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("template", String(64), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("user_id", Uuid, nullable=True),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("smtp_code", Integer, nullable=True),
    Column("error", String(MAX_ERROR_CHARS), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_deliveries_state", "state"),
)


class DeliveryLedger:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def find(self, event_id: UUID) -> Delivery | None:
        with _translated():
            async with self._engine.connect() as connection:
                result = await connection.execute(
                    select(deliveries).where(deliveries.c.event_id == event_id)
                )
                row = result.mappings().first()
        return None if row is None else _delivery(row)

    async def claim(self, notice: Notice, seen: Delivery | None, now: datetime) -> int:
        """Mark the event ``sending`` and answer the number of this attempt.

        Raises :class:`DeliveryInFlight` when another attempt claimed it
        since ``seen`` was read.
        """
        attempt = 1 if seen is None else seen.attempts + 1
        statement: Insert | Update
        if seen is None:
            statement = insert(deliveries).values(
                event_id=notice.cause_event_id,
                template=notice.template.value,
                recipient=notice.recipient,
                user_id=notice.user_id,
                state=DeliveryState.SENDING.value,
                attempts=attempt,
                created_at=now,
                updated_at=now,
            )
        else:
            statement = (
                update(deliveries)
                .where(
                    deliveries.c.event_id == seen.event_id,
                    deliveries.c.state == seen.state.value,
                    deliveries.c.attempts == seen.attempts,
                )
                .values(
                    state=DeliveryState.SENDING.value, attempts=attempt, updated_at=now
                )
            )
        try:
            with _translated():
                async with self._engine.begin() as connection:
                    result = await connection.execute(statement)
        except IntegrityError as exc:
            raise DeliveryInFlight("another attempt claimed the event") from exc
        if seen is not None and result.rowcount != 1:
            raise DeliveryInFlight("another attempt claimed the event")
        return attempt

    async def record(
        self,
        notice: Notice,
        attempt: int,
        state: DeliveryState,
        *,
        smtp_code: int | None,
        error: str | None,
        now: datetime,
    ) -> Delivery:
        """Store the outcome of ``attempt`` and answer the row as it now is."""
        error = None if error is None else error[:MAX_ERROR_CHARS]
        with _translated():
            async with self._engine.begin() as connection:
                await connection.execute(
                    update(deliveries)
                    .where(deliveries.c.event_id == notice.cause_event_id)
                    .values(
                        state=state.value,
                        smtp_code=smtp_code,
                        error=error,
                        updated_at=now,
                    )
                )
        return Delivery(
            event_id=notice.cause_event_id,
            template=notice.template.value,
            recipient=notice.recipient,
            user_id=notice.user_id,
            state=state,
            attempts=attempt,
            smtp_code=smtp_code,
            error=error,
            updated_at=now,
        )


@contextmanager
def _translated() -> Iterator[None]:
    try:
        yield
    # PostgresError: a server refusing new connections (not accepting them,
    # starting up, too many) fails in the pool's connect, unwrapped.
    except (
        OperationalError,
        InterfaceError,
        PoolTimeoutError,
        OSError,
        PostgresError,
    ) as exc:
        raise LedgerUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc


def _delivery(row: RowMapping) -> Delivery:
    return Delivery(
        event_id=row["event_id"],
        template=row["template"],
        recipient=row["recipient"],
        user_id=row["user_id"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        smtp_code=row["smtp_code"],
        error=row["error"],
        updated_at=_utc(row["updated_at"]),
    )


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value
