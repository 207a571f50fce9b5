"""The outbox relay: publishes recorded events to Kafka, in order per key.

Why nothing is skipped. Sequence numbers are not commit order: a transaction
can take seq 10, commit after the one that took seq 11, and a relay that
remembered "published up to 11" would never see 10. This relay keeps no such
mark. Every cycle reads the rows still *pending* (``published_at IS NULL``) in
seq order, so a row that commits late is simply found by the next cycle.

Why order per key holds. A key is a user id (or the address of no account),
and the events of one key belong to one stream, whose appends are serialised
by the unique ``(stream_id, stream_version)``: the next event of a stream is
only inserted after the previous one committed, so it has a higher seq and is
never visible without its predecessor. Within a cycle the rows of one key are
sent one at a time, each after the broker acknowledged the previous; a
failure stops that key until the next cycle, so a later row never overtakes
an earlier one. Keys proceed concurrently. (Refusals that belong to no stream
come from concurrent requests, which have no order to keep.)

A row is marked published only after the broker acknowledged it. A crash in
between publishes it again on restart: delivery is at least once, and
consumers de-duplicate on ``event_id``.

One relay publishes at a time: it holds a lease row, renewed every cycle, and
another process takes over when the lease lapses (a crashed relay). While the
broker is away the rows stay pending and the relay backs off; when it comes
back the relay creates the topics again (a memory-only broker loses them) and
drains the backlog. The API never waits for the broker.
"""

import asyncio
import contextlib
import json
import logging
import random
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer
from opentelemetry import metrics, propagate, trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.adapters.relay_lease import RelayLease
from identity.adapters.tables import outbox
from identity.adapters.write_gate import WriteGate
from identity.instruments import outbox_publish_lag
from shared.messaging import context_from_headers, create_producer, ensure_topics
from shared.settings import KafkaSettings

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

TRACE_HEADERS = frozenset({"traceparent", "tracestate"})
PRUNE_EVERY = timedelta(minutes=10)

ProducerFactory = Callable[[], AIOKafkaProducer]

_relays: "weakref.WeakSet[OutboxRelay]" = weakref.WeakSet()


def _observe_backlog(_: CallbackOptions) -> Iterable[Observation]:
    # Only the relay holding the lease knows the backlog; the others stay silent
    # rather than report what they saw before another took over.
    for relay in list(_relays):
        if relay.backlog is not None:
            yield Observation(relay.backlog)


metrics.get_meter("identity").create_observable_gauge(
    "outbox.backlog",
    [_observe_backlog],
    unit="{row}",
    description="Outbox rows still pending publication",
)


@dataclass(frozen=True)
class RelayOptions:
    batch_size: int = 500
    poll_seconds: float = 1.0
    lease: timedelta = timedelta(seconds=30)
    send_timeout: timedelta = timedelta(seconds=10)
    max_backoff_seconds: float = 10.0
    retention: timedelta = timedelta(days=7)


class RelayFailure(Exception):
    """Some rows could not be published this cycle; they stay pending."""


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        kafka: KafkaSettings,
        options: RelayOptions = RelayOptions(),
        *,
        producer_factory: ProducerFactory | None = None,
        holder: str | None = None,
        gate: WriteGate | None = None,
    ) -> None:
        self._engine = engine
        self._gate = gate or WriteGate(engine)
        self._kafka = kafka
        self._topic = kafka.auth_events_topic
        self._options = options
        self._producer_factory = producer_factory or self._default_producer
        self._producer: AIOKafkaProducer | None = None
        self._lease = RelayLease(
            self._gate,
            engine,
            holder or f"relay-{uuid.uuid4().hex[:12]}",
            options.lease,
        )
        self._wakeup = asyncio.Event()
        self._last_prune: datetime | None = None
        self.published = 0
        self.consecutive_failures = 0
        self.backlog: int | None = None
        """Rows pending after the last cycle; None unless this relay holds the lease."""
        self._holds_lease = False
        _relays.add(self)

    def wake(self) -> None:
        """New rows were committed: publish without waiting for the next poll."""
        self._wakeup.set()

    async def run(self) -> None:
        """Publish until cancelled; never gives up on the broker or database."""
        logger.info("outbox.relay_started", extra={"topic": self._topic})
        try:
            while True:
                try:
                    more = await self.cycle()
                    self.consecutive_failures = 0
                    if not more:
                        await self._idle()
                except Exception as exc:
                    self.consecutive_failures += 1
                    delay = self._backoff(self.consecutive_failures)
                    logger.warning(
                        "outbox.relay_retry",
                        extra={
                            "error": f"{type(exc).__name__}: {exc}",
                            "failures": self.consecutive_failures,
                            "retry_in_s": round(delay, 2),
                        },
                    )
                    await self._drop_producer()
                    await self._count_backlog()
                    await asyncio.sleep(delay)
        finally:
            self._holds_lease = False
            self.backlog = None
            await asyncio.shield(self.close())

    async def cycle(self) -> bool:
        """One round: lease, read pending rows, publish, mark. True if more wait."""
        # The bookkeeping queries of an idle relay would start a trace of their
        # own every poll; only the publishing is traced, in the events' traces.
        with suppress_instrumentation():
            self._holds_lease = await self._lease.acquire()
            if not self._holds_lease:
                self.backlog = None
                return False
            producer = await self._ready_producer()
            self._wakeup.clear()  # rows committed from now on wake the next idle
            rows = await self._pending()
            if not rows:
                self.backlog = 0
                await self._prune()
                return False
            # A full batch is where counting pays: a backlog is building up.
            pending = len(rows)
            if pending == self._options.batch_size:
                pending = await self._count_pending()
        await self._confirm_topic(producer)
        acknowledged = await self._publish(producer, rows)
        with suppress_instrumentation():
            await self._mark_published(acknowledged)
        self.published += len(acknowledged)
        self.backlog = pending - len(acknowledged)
        if len(acknowledged) < len(rows):
            raise RelayFailure(f"{len(rows) - len(acknowledged)} rows still pending")
        return len(rows) == self._options.batch_size

    async def close(self) -> None:
        await self._drop_producer()
        try:
            with suppress_instrumentation():
                await self._lease.release()
        except Exception:
            logger.warning("outbox.lease_not_released", exc_info=True)

    def _default_producer(self) -> AIOKafkaProducer:
        timeout_ms = int(self._options.send_timeout.total_seconds() * 1000)
        return create_producer(
            self._kafka, "identity-relay", request_timeout_ms=timeout_ms
        )

    async def _ready_producer(self) -> AIOKafkaProducer:
        if self._producer is not None:
            return self._producer
        producer = self._producer_factory()
        try:
            await producer.start()
            await ensure_topics(self._kafka, [self._topic], client_id="identity-relay")
        except BaseException:
            await _stop(producer)
            raise
        self._producer = producer
        return producer

    async def _confirm_topic(self, producer: AIOKafkaProducer) -> None:
        """Make sure the broker still has the topic before producing to it.

        A memory-only broker that restarted has forgotten it, and the embedded
        one even acknowledges records for a topic it does not have, which are
        then lost; asking first costs one metadata request per batch.
        """
        metadata = await producer.client.fetch_all_metadata()
        if metadata.partitions_for_topic(self._topic) is None:
            logger.warning("outbox.topic_missing", extra={"topic": self._topic})
            await ensure_topics(self._kafka, [self._topic], client_id="identity-relay")
            await producer.client.force_metadata_update()

    async def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await _stop(producer)

    async def _pending(self) -> list[Row[Any]]:
        async with self._engine.connect() as conn:
            result = await conn.execute(
                select(
                    outbox.c.seq,
                    outbox.c.event_id,
                    outbox.c.message_key,
                    outbox.c.message_value,
                    outbox.c.headers,
                    outbox.c.created_at,
                )
                .where(outbox.c.published_at.is_(None))
                .order_by(outbox.c.seq)
                .limit(self._options.batch_size)
            )
            return list(result.all())

    async def _count_pending(self) -> int:
        async with self._engine.connect() as conn:
            count = await conn.scalar(
                select(func.count())
                .select_from(outbox)
                .where(outbox.c.published_at.is_(None))
            )
            return int(count or 0)

    async def _count_backlog(self) -> None:
        """While publishing fails, the backlog is what the relay cannot see
        by publishing: count it, if the database answers and the lease is ours."""
        if not self._holds_lease:
            return
        try:
            with suppress_instrumentation():
                self.backlog = await self._count_pending()
        except Exception:
            logger.debug("outbox.backlog_not_counted", exc_info=True)

    async def _publish(
        self, producer: AIOKafkaProducer, rows: list[Row[Any]]
    ) -> list[int]:
        by_key: dict[bytes, list[Row[Any]]] = {}
        for row in rows:
            by_key.setdefault(row.message_key, []).append(row)
        acknowledged: list[int] = []

        async def publish_key(key_rows: list[Row[Any]]) -> None:
            for row in key_rows:
                if not await self._send(producer, row):
                    return  # later rows of this key wait for this one
                acknowledged.append(row.seq)

        await asyncio.gather(*(publish_key(r) for r in by_key.values()))
        return acknowledged

    async def _send(self, producer: AIOKafkaProducer, row: Row[Any]) -> bool:
        stored = [(k, v) for k, v in json.loads(row.headers)]
        parent = context_from_headers([(k, v.encode()) for k, v in stored])
        with tracer.start_as_current_span(
            f"{self._topic} publish",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": self._topic,
                "messaging.message.id": row.event_id,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers = [(k, v.encode()) for k, v in stored if k not in TRACE_HEADERS]
            headers += [
                (k, v.encode()) for k, v in carrier.items() if k in TRACE_HEADERS
            ]
            try:
                await producer.send_and_wait(
                    self._topic, row.message_value, key=row.message_key, headers=headers
                )
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                logger.warning(
                    "outbox.publish_failed",
                    extra={
                        "event_id": row.event_id,
                        "error": f"{type(exc).__name__}: {exc}",
                    },
                )
                return False
            lag = datetime.now(UTC) - row.created_at
            outbox_publish_lag.record(max(lag.total_seconds(), 0.0))
            return True

    async def _mark_published(self, seqs: list[int]) -> None:
        if not seqs:
            return
        now = datetime.now(UTC)
        async with self._gate.writing(), self._engine.begin() as conn:
            for start in range(0, len(seqs), 500):
                chunk = seqs[start : start + 500]
                await conn.execute(
                    update(outbox)
                    .where(outbox.c.seq.in_(chunk))
                    .values(published_at=now)
                )

    async def _prune(self) -> None:
        """Published rows are kept a while for inspection, then removed."""
        now = datetime.now(UTC)
        if self._last_prune is not None and now - self._last_prune < PRUNE_EVERY:
            return
        self._last_prune = now
        async with self._gate.writing(), self._engine.begin() as conn:
            await conn.execute(
                delete(outbox).where(
                    outbox.c.published_at < now - self._options.retention
                )
            )

    async def _idle(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), self._options.poll_seconds)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self._options.max_backoff_seconds, 0.2 * 2 ** min(failures, 10))
        return random.uniform(ceiling / 2, ceiling)


async def _stop(producer: AIOKafkaProducer) -> None:
    try:
        await asyncio.wait_for(producer.stop(), timeout=5)
    except Exception:
        logger.debug("outbox.producer_stop_failed", exc_info=True)
