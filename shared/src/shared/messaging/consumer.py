"""The consumer loop every service runs: handle, retry, dead-letter, commit.

Offsets are committed only after the handler returned, that is after the
service's own database commit, so delivery is at least once and handlers
must be idempotent on ``event_id``.
"""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaTimeoutError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared.events import EnvelopeError
from shared.messaging.consumer_lag import SAMPLE_EVERY_SECONDS, LagSampler
from shared.messaging.dead_letter import DeadLetterPublisher
from shared.messaging.headers import context_from_headers, header_value

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

Handler = Callable[[ConsumerRecord], Awaitable[None]]
# A batch span links to its records' traces, up to the SDK's default link limit.
MAX_BATCH_LINKS = 128
BatchHandler = Callable[[list[ConsumerRecord]], Awaitable[None]]


class PoisonMessage(Exception):
    """The message can never be handled: dead-letter it at once."""


class DependencyUnavailable(Exception):
    """A dependency (database, SMTP, broker) is away: retry without a bound."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.2
    max_delay: float = 30.0

    def delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the given 1-based attempt."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)


class ConsumerLoop(ConsumerRebalanceListener):  # type: ignore[misc]
    """Runs ``handler`` over every record of the subscribed topics, in order.

    On revocation the record in flight finishes, the offsets handled so far
    are committed, and the rest of that partition's batch is dropped for the
    new owner to read again.

    With a ``batch_handler``, each partition's batch is first handed over
    whole (one database transaction instead of one per record); when that
    raises, the batch is handled again record by record through ``handler``,
    so retries and dead letters stay per record. Both must be idempotent.

    With ``concurrent_partitions``, the partitions of one fetch are handled
    side by side, each still in order, so that a handler that mostly waits
    (on an SMTP server) serves several partitions at once; the offsets are
    committed once all of them are done. The next fetch still waits for the
    slowest partition of this one.

    Every ``lag_every_seconds`` the loop samples its partitions' lag for the
    ``messaging.kafka.consumer.lag`` gauge (see :mod:`consumer_lag`); ``name``
    is the consumer group it reports under.
    """

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        handler: Handler,
        dead_letters: DeadLetterPublisher,
        *,
        name: str,
        retry: RetryPolicy = RetryPolicy(),
        batch_size: int = 200,
        batch_handler: BatchHandler | None = None,
        commit_timeout: float = 10.0,
        lag_every_seconds: float = SAMPLE_EVERY_SECONDS,
        concurrent_partitions: bool = False,
    ) -> None:
        self._consumer = consumer
        self._handler = handler
        self._batch_handler = batch_handler
        self._concurrent_partitions = concurrent_partitions
        self._dead_letters = dead_letters
        self._name = name
        self._retry = retry
        self._batch_size = batch_size
        self._commit_timeout = commit_timeout
        self._lock = asyncio.Lock()
        self._handled: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._stopping = asyncio.Event()
        # Bumped by every revocation: the batch in hand belongs to the
        # generation it was fetched in and is dropped once that has passed.
        self._generation = 0
        self._interrupted = asyncio.Event()
        self.records_handled = 0
        self._lag = LagSampler(consumer, name, every_seconds=lag_every_seconds)

    def subscribe(self, *topics: str) -> None:
        self._consumer.subscribe(topics=list(topics), listener=self)

    def stop(self) -> None:
        self._stopping.set()
        self._interrupted.set()

    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                batch = await self._fetch()
                # What getmany returns belongs to the assignment as it is now.
                generation = self._generation
                if self._concurrent_partitions and len(batch) > 1:
                    await self._handle_concurrently(batch, generation)
                else:
                    for tp, records in batch.items():
                        async with self._lock:
                            await self._handle_partition(tp, records, generation)
                            await self._commit([tp])
                await self._lag.maybe_sample(self._committed)
        finally:
            self._lag.close()

    async def _handle_concurrently(
        self, batch: dict[TopicPartition, list[ConsumerRecord]], generation: int
    ) -> None:
        """Each partition's records in order, the partitions side by side."""
        async with self._lock:
            async with asyncio.TaskGroup() as partitions:
                for tp, records in batch.items():
                    partitions.create_task(
                        self._handle_partition(tp, records, generation)
                    )
            await self._commit(list(batch))

    async def _fetch(self) -> dict[TopicPartition, list[ConsumerRecord]]:
        batch: dict[
            TopicPartition, list[ConsumerRecord]
        ] = await self._consumer.getmany(timeout_ms=500, max_records=self._batch_size)
        if self._batch_handler is None:
            return batch
        # A batch handler pays one transaction per partition batch: top the
        # batch up with what the consumer has already buffered, without waiting.
        total = sum(map(len, batch.values()))
        while batch and total < self._batch_size:
            more = await self._consumer.getmany(
                timeout_ms=0, max_records=self._batch_size - total
            )
            if not more:
                break
            for tp, records in more.items():
                batch.setdefault(tp, []).extend(records)
                total += len(records)
        return batch

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        # Before taking the lock: the batch in hand stops after the record in
        # flight, and a record waiting out a backoff is dropped at once.
        self._generation += 1
        self._interrupted.set()
        async with self._lock:
            try:
                await self._commit(revoked)
            finally:
                for tp in revoked:
                    self._handled.pop(tp, None)
                    self._committed.pop(tp, None)
                self._lag.forget(revoked)
                if not self._stopping.is_set():
                    self._interrupted.clear()

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        logger.info(
            "kafka.partitions_assigned",
            extra={"consumer": self._name, "partitions": [str(tp) for tp in assigned]},
        )

    def _owns(self, tp: TopicPartition, generation: int) -> bool:
        return (
            not self._stopping.is_set()
            and generation == self._generation
            and tp in self._consumer.assignment()
        )

    async def _handle_partition(
        self, tp: TopicPartition, records: list[ConsumerRecord], generation: int
    ) -> None:
        if self._batch_handler is not None and len(records) > 1:
            if not self._owns(tp, generation):
                return
            if await self._handle_batch(self._batch_handler, tp, records):
                self._handled[tp] = records[-1].offset + 1
                self.records_handled += len(records)
                return
        for record in records:
            if not self._owns(tp, generation):
                return
            if not await self._handle_record(record, generation):
                return
            self._handled[tp] = record.offset + 1
            self.records_handled += 1

    async def _handle_batch(
        self,
        batch_handler: BatchHandler,
        tp: TopicPartition,
        records: list[ConsumerRecord],
    ) -> bool:
        links = [
            trace.Link(span_context)
            for record in records[:MAX_BATCH_LINKS]
            if (span_context := _span_context(record)) is not None
        ]
        with tracer.start_as_current_span(
            f"{tp.topic} process",
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "process",
                "messaging.destination.name": tp.topic,
                "messaging.destination.partition.id": str(tp.partition),
                "messaging.batch.message_count": len(records),
                "messaging.consumer.group.name": self._name,
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                await batch_handler(records)
                return True
            except Exception as exc:
                _mark_failed(span, exc)
                logger.warning(
                    "kafka.batch_failed",
                    extra={
                        "consumer": self._name,
                        "partition": str(tp),
                        "records": len(records),
                        "error": f"{type(exc).__name__}: {exc}"[:200],
                    },
                )
                return False

    async def _handle_record(self, record: ConsumerRecord, generation: int) -> bool:
        """Handle or dead-letter ``record``; False when a revocation dropped it
        while it waited to be retried, for the new owner to read again."""
        parent = context_from_headers(record.headers)
        attempt = 0
        while True:
            attempt += 1
            with tracer.start_as_current_span(
                f"{record.topic} process",
                context=parent,
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.operation.type": "process",
                    "messaging.destination.name": record.topic,
                    "messaging.destination.partition.id": str(record.partition),
                    "messaging.kafka.offset": record.offset,
                    "messaging.consumer.group.name": self._name,
                    "messaging.message.id": header_value(record.headers, "event_id")
                    or "",
                    "auth.attempt": attempt,
                },
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                try:
                    await self._handler(record)
                    return True
                except (PoisonMessage, EnvelopeError) as exc:
                    _mark_failed(span, exc)
                    await self._dead_letters.publish(record, exc)
                    return True
                except DependencyUnavailable as exc:
                    _mark_failed(span, exc)
                    delay = self._retry.delay(min(attempt, 8))
                    logger.warning(
                        "kafka.dependency_unavailable",
                        extra={
                            "consumer": self._name,
                            "error": str(exc),
                            "retry_in_s": round(delay, 2),
                        },
                    )
                except Exception as exc:
                    _mark_failed(span, exc)
                    if attempt >= self._retry.max_attempts:
                        logger.exception(
                            "kafka.handler_gave_up",
                            extra={"consumer": self._name, "attempts": attempt},
                        )
                        await self._dead_letters.publish(record, exc)
                        return True
                    delay = self._retry.delay(attempt)
                    logger.warning(
                        "kafka.handler_retry",
                        extra={
                            "consumer": self._name,
                            "attempt": attempt,
                            "error": f"{type(exc).__name__}: {exc}",
                        },
                    )
            if not await self._sleep(delay, generation):
                return False

    async def _sleep(self, delay: float, generation: int) -> bool:
        """Back off; False when a revocation took the partition meanwhile."""
        try:
            await asyncio.wait_for(self._interrupted.wait(), timeout=delay)
        except TimeoutError:
            return True
        if self._stopping.is_set():
            raise asyncio.CancelledError("consumer stopping")
        return generation == self._generation

    async def _commit(self, partitions: list[TopicPartition]) -> None:
        # Only offsets not committed yet. A member that lost the group (a
        # restarted broker forgot it) commits without a generation, which the
        # broker accepts: committing again what was committed before the
        # restart would land on the topics created since, skipping records.
        offsets = {
            tp: OffsetAndMetadata(self._handled[tp], "")
            for tp in partitions
            if tp in self._handled and self._handled[tp] != self._committed.get(tp)
        }
        if offsets:
            try:
                await asyncio.wait_for(
                    self._consumer.commit(offsets), self._commit_timeout
                )
            except TimeoutError as exc:
                # aiokafka retries a commit to a partition the broker does not
                # know without end; the service restarts its consumer instead,
                # which creates the topics again, and the records come again.
                raise KafkaTimeoutError(
                    f"offset commit not done in {self._commit_timeout} s"
                ) from exc
            for tp, offset in offsets.items():
                self._committed[tp] = offset.offset


def _span_context(record: ConsumerRecord) -> trace.SpanContext | None:
    context = trace.get_current_span(context_from_headers(record.headers))
    span_context = context.get_span_context()
    return span_context if span_context.is_valid else None


def _mark_failed(span: trace.Span, exc: BaseException) -> None:
    span.record_exception(exc)
    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
