"""Use case: project consumed events into the audit store, one transaction a batch."""

import logging
import time
from collections.abc import Sequence

from aiokafka.structs import ConsumerRecord
from opentelemetry import context, metrics, trace
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.adapters.projection_store import save_batch
from audit.domain.audit_event import AuditEvent
from audit.domain.trace_context import parse_traceparent
from audit.errors import STORE_UNAVAILABLE
from shared.events import decode_envelope
from shared.messaging import context_from_headers, header_value
from shared.messaging.consumer import DependencyUnavailable

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
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


def audit_event(record: ConsumerRecord) -> AuditEvent:
    """The audit row of one consumed message; EnvelopeError when malformed."""
    envelope = decode_envelope(record.value)
    trace = parse_traceparent(header_value(record.headers, "traceparent"))
    return AuditEvent.from_envelope(envelope, trace)


class Projection:
    """Writes events, counts and account states in one transaction per batch."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # Zero from the start, so that a rate over the counters never lacks a series.
        _projected.add(0)
        _duplicates.add(0)

    async def project(self, batch: Sequence[AuditEvent]) -> int:
        try:
            async with self._engine.begin() as conn:
                fresh = await save_batch(conn, batch)
        except STORE_UNAVAILABLE as exc:
            # Retried without bound by the loop: good events are never
            # dead-lettered because the database is away or busy.
            raise DependencyUnavailable(f"audit database: {exc}") from exc
        _projected.add(fresh)
        if len(batch) > fresh:
            _duplicates.add(len(batch) - fresh)
        return fresh

    async def handle(self, records: Sequence[ConsumerRecord]) -> None:
        """The consumer's handler, for one record or a whole partition batch.

        The batch's transaction is one ``audit.store`` span; each event also
        gets an ``audit.project`` span in its own trace, linked to it, so that
        the trace of a request reaches the audit store even when its event was
        written in a batch that belongs to no single trace.
        """
        batch = [audit_event(record) for record in records]
        started = time.time_ns()
        with tracer.start_as_current_span(
            "audit.store", attributes={"messaging.batch.message_count": len(batch)}
        ) as store:
            await self.project(batch)
        ended = time.time_ns()
        # Some tens of microseconds per event, against hundreds to project it.
        links = [trace.Link(store.get_span_context())]
        for record, event in zip(records, batch, strict=True):
            tracer.start_span(
                "audit.project",
                context=_trace_of(record),
                links=links,
                attributes={"messaging.message.id": str(event.event_id)},
                start_time=started,
            ).end(end_time=ended)


def _trace_of(record: ConsumerRecord) -> context.Context:
    """The current context when it is the record's trace (the record was
    handled alone, under its own process span), else its header context."""
    carried = context_from_headers(record.headers)
    own = trace.get_current_span(carried).get_span_context()
    current = trace.get_current_span().get_span_context()
    if current.is_valid and current.trace_id == own.trace_id:
        return context.get_current()
    return carried
