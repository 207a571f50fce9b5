"""The consumer edge: group ``audit`` on the auth and notification topics."""

import asyncio
import logging

from aiokafka.errors import KafkaError

from audit.projection import Projection
from audit.settings import AuditSettings
from shared.messaging import (
    DeadLetterPublisher,
    create_consumer,
    create_producer,
    ensure_topics,
)
from shared.messaging.consumer import ConsumerLoop, RetryPolicy

logger = logging.getLogger(__name__)

RECONNECT = RetryPolicy(base_delay=0.5, max_delay=30.0)


class AuditConsumer:
    """Projects every consumed event; reconnects while the broker is away.

    Offsets are committed by the loop after the projection's transaction has
    committed; a malformed message goes to ``<topic>.dlq``.
    """

    def __init__(self, settings: AuditSettings, projection: Projection) -> None:
        self._settings = settings
        self._projection = projection
        self._stopping = asyncio.Event()
        self._loop: ConsumerLoop | None = None
        self.records_handled = 0

    @property
    def topics(self) -> tuple[str, str]:
        return (
            self._settings.auth_events_topic,
            self._settings.notification_events_topic,
        )

    @property
    def consuming(self) -> bool:
        """Joined to the broker and reading (what readiness reports)."""
        return self._loop is not None

    def stop(self) -> None:
        self._stopping.set()
        if self._loop is not None:
            self._loop.stop()

    async def run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            attempt += 1
            delay = RECONNECT.delay(min(attempt, 8))
            try:
                await self._consume()
                attempt = 0
                continue
            except (KafkaError, OSError) as exc:
                logger.warning(
                    "audit.broker_unavailable",
                    extra={
                        "error": f"{type(exc).__name__}: {exc}",
                        "retry_in_s": delay,
                    },
                )
            except Exception:
                # The loop boundary: whatever broke, consume again from the
                # committed offsets rather than stop projecting for good.
                logger.exception("audit.consumer_failed", extra={"retry_in_s": delay})
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            except TimeoutError:
                continue

    async def _consume(self) -> None:
        settings = self._settings
        await ensure_topics(
            settings,
            [*self.topics, *(settings.dead_letter_topic(t) for t in self.topics)],
            client_id="audit",
        )
        producer = create_producer(settings, "audit-dlq")
        consumer = create_consumer(
            settings,
            settings.consumer_group,
            max_poll_records=settings.consumer_batch_size,
        )
        loop = ConsumerLoop(
            consumer,
            lambda record: self._projection.handle([record]),
            DeadLetterPublisher(producer, settings),
            name=settings.consumer_group,
            batch_size=settings.consumer_batch_size,
            batch_handler=self._projection.handle,
        )
        loop.subscribe(*self.topics)
        try:
            await producer.start()
            await consumer.start()
            self._loop = loop
            if self._stopping.is_set():
                return
            logger.info(
                "audit.consumer_started",
                extra={"group": settings.consumer_group, "topics": list(self.topics)},
            )
            await loop.run()
        except asyncio.CancelledError:
            if not self._stopping.is_set():
                raise
        finally:
            self.records_handled += loop.records_handled
            self._loop = None
            await consumer.stop()
            await producer.stop()
