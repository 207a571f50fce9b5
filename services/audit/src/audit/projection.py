"""Use case: project consumed events into the audit store, one transaction a batch."""

import logging
from collections.abc import Sequence

from aiokafka.structs import ConsumerRecord
from opentelemetry import metrics
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.adapters.projection_store import save_batch
from audit.domain.audit_event import AuditEvent
from audit.domain.trace_context import parse_traceparent
from shared.events import decode_envelope
from shared.messaging import header_value
from shared.messaging.consumer import DependencyUnavailable

logger = logging.getLogger(__name__)
_meter = metrics.get_meter("audit.projection")
_projected = _meter.create_counter(
    "audit.events.projected",
    unit="{event}",
    description="Events written to the audit store (duplicates excluded)",
)
_duplicates = _meter.create_counter(
    "audit.events.duplicates",
    unit="{event}",
    description="Events skipped because their event_id was already stored",
)

# The database is away or busy (SQLite lock, PostgreSQL restart): the consumer
# retries without bound instead of dead-lettering good events.
_UNAVAILABLE = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.TimeoutError,
    OSError,
)


def audit_event(record: ConsumerRecord) -> AuditEvent:
    """The audit row of one consumed message; EnvelopeError when malformed."""
    envelope = decode_envelope(record.value)
    trace = parse_traceparent(header_value(record.headers, "traceparent"))
    return AuditEvent.from_envelope(envelope, trace)


class Projection:
    """Writes events, counts and account states in one transaction per batch."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def project(self, batch: Sequence[AuditEvent]) -> int:
        try:
            async with self._engine.begin() as conn:
                fresh = await save_batch(conn, batch)
        except _UNAVAILABLE as exc:
            raise DependencyUnavailable(f"audit database: {exc}") from exc
        _projected.add(fresh)
        if len(batch) > fresh:
            _duplicates.add(len(batch) - fresh)
        return fresh

    async def handle(self, records: Sequence[ConsumerRecord]) -> None:
        """The consumer's handler, for one record or a whole partition batch."""
        await self.project([audit_event(record) for record in records])
