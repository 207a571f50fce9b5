"""The event store: streams of events with optimistic concurrency.

One append is one transaction: the events (unique per stream and version, so
two writers deciding on the same state cannot both succeed), the read models
they change, and one outbox row per event with the public envelope, its key
and the trace context of the request. No connection is held outside it.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from uuid import uuid4

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from identity.adapters.envelopes import SealedTokens, to_envelope
from identity.adapters.event_codec import decode_event, encode_event, event_name
from identity.adapters.projections import clear_read_models, project
from identity.adapters.storage_errors import storage_call
from identity.adapters.tables import events, outbox
from identity.adapters.write_gate import WriteGate
from identity.application.context import RequestContext
from identity.application.streams import StreamRef
from identity.domain.errors import ConcurrencyConflict
from identity.domain.events import DomainEvent, Recorded
from shared.events import EventEnvelope, encode_envelope
from shared.messaging.headers import current_trace_carrier

REBUILD_PAGE = 1000


class EventStore:
    def __init__(self, engine: AsyncEngine, gate: WriteGate | None = None) -> None:
        self._engine = engine
        self._gate = gate or WriteGate(engine)

    @storage_call
    async def load(self, stream_id: str) -> list[Recorded]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    events.c.event_type,
                    events.c.payload,
                    events.c.stream_version,
                    events.c.occurred_at,
                )
                .where(events.c.stream_id == stream_id)
                .order_by(events.c.stream_version)
            )
            return [
                Recorded(
                    decode_event(row.event_type, row.payload),
                    row.stream_version,
                    row.occurred_at,
                )
                for row in rows
            ]

    @storage_call
    async def append(
        self,
        stream: StreamRef,
        new_events: Sequence[DomainEvent],
        *,
        now: datetime,
        context: RequestContext,
        sealed: SealedTokens,
    ) -> list[EventEnvelope]:
        """Record ``new_events`` after ``stream.expected_version``.

        Raises :class:`ConcurrencyConflict` when another writer got there
        first (or took the same address): the caller reloads and decides again.
        """
        carrier = current_trace_carrier()
        envelopes: list[EventEnvelope] = []
        try:
            async with self._gate.writing(), self._engine.begin() as conn:
                for offset, event in enumerate(new_events, start=1):
                    version = None
                    if stream.stream_id is not None:
                        version = stream.expected_version + offset
                    envelope = to_envelope(
                        event,
                        event_id=uuid4(),
                        occurred_at=now,
                        stream=stream,
                        stream_version=version,
                        context=context,
                        sealed=sealed,
                    )
                    await self._insert(conn, stream, event, version, envelope, carrier)
                    envelopes.append(envelope)
        except IntegrityError as exc:
            raise ConcurrencyConflict(str(stream.stream_id)) from exc
        return envelopes

    async def _insert(
        self,
        conn: AsyncConnection,
        stream: StreamRef,
        event: DomainEvent,
        version: int | None,
        envelope: EventEnvelope,
        carrier: dict[str, str],
    ) -> None:
        event_id = str(envelope.event_id)
        await conn.execute(
            insert(events).values(
                event_id=event_id,
                stream_id=stream.stream_id,
                stream_version=version,
                event_type=event_name(event),
                occurred_at=envelope.occurred_at,
                payload=encode_event(event),
                metadata=json.dumps(
                    {
                        "ip": envelope.ip,
                        "user_agent": envelope.user_agent,
                        "duration_ms": envelope.duration_ms,
                        "trace": carrier,
                    }
                ),
            )
        )
        recorded = Recorded(event, version or 0, envelope.occurred_at)
        await project(conn, stream.stream_id, recorded)
        await conn.execute(
            insert(outbox).values(
                event_id=event_id,
                message_key=envelope.key,
                message_value=encode_envelope(envelope),
                headers=json.dumps(message_headers(envelope, carrier)),
                created_at=envelope.occurred_at,
            )
        )

    async def rebuild_read_models(self) -> int:
        """Empty the read models and replay every event into them, in order.

        One transaction: readers see the old rows or the new, never a mix.
        Answers the number of events replayed.
        """
        count, last_seq = 0, 0
        async with self._gate.writing(), self._engine.begin() as conn:
            await clear_read_models(conn)
            while True:
                rows = (
                    await conn.execute(
                        select(
                            events.c.seq,
                            events.c.stream_id,
                            events.c.stream_version,
                            events.c.event_type,
                            events.c.payload,
                            events.c.occurred_at,
                        )
                        .where(events.c.seq > last_seq)
                        .order_by(events.c.seq)
                        .limit(REBUILD_PAGE)
                    )
                ).all()
                if not rows:
                    break
                for row in rows:
                    event = decode_event(row.event_type, row.payload)
                    version = row.stream_version or 0
                    recorded = Recorded(event, version, row.occurred_at)
                    await project(conn, row.stream_id, recorded)
                count += len(rows)
                last_seq = rows[-1].seq
        return count


def message_headers(
    envelope: EventEnvelope, carrier: dict[str, str]
) -> list[list[str]]:
    """The Kafka headers of an event, with the request's W3C trace context."""
    headers = [[k, v] for k, v in carrier.items() if k in {"traceparent", "tracestate"}]
    return [
        *headers,
        ["event_type", envelope.event_type.value],
        ["event_id", str(envelope.event_id)],
        ["content-type", "application/json"],
    ]
