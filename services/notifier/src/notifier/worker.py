"""The consuming half of the service: broker clients around the consumer loop.

It runs as a task of the app's lifespan, reconnects after a broker outage or
an unexpected error, and stops after the record in hand.
"""

import asyncio
import logging
from collections.abc import Sequence
from datetime import timedelta

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError
from sqlalchemy.ext.asyncio import AsyncEngine

from notifier.consumer import AuthEventHandler
from notifier.domain.notices import Unsealer
from notifier.ledger import DeliveryLedger
from notifier.outcomes import OutcomePublisher
from notifier.rendering import MailRenderer
from notifier.send_notice import SendNotice
from notifier.settings import NotifierSettings
from notifier.smtp import SmtpMailer
from shared.messaging import (
    DeadLetterPublisher,
    create_consumer,
    create_producer,
    ensure_topics,
)
from shared.messaging.consumer import ConsumerLoop, RetryPolicy

logger = logging.getLogger(__name__)

MAX_RESTART_DELAY = 30.0


class NotifierWorker:
    """Consumes the auth events topic in the ``consumer_group`` until stopped.

    With ``partitions`` it reads those partitions of the topic without joining
    the group (offsets are still committed under the group): for a single
    instance that must not take part in rebalances, and for tests.
    """

    def __init__(
        self,
        settings: NotifierSettings,
        engine: AsyncEngine,
        sealer: Unsealer,
        *,
        partitions: Sequence[int] | None = None,
    ) -> None:
        self._settings = settings
        self._engine = engine
        self._sealer = sealer
        self._partitions = partitions
        self._stopping = asyncio.Event()
        self._loop: ConsumerLoop | None = None
        self._handled_before = 0

    @property
    def consuming(self) -> bool:
        return self._loop is not None

    @property
    def records_handled(self) -> int:
        current = self._loop.records_handled if self._loop is not None else 0
        return self._handled_before + current

    def stop(self) -> None:
        self._stopping.set()
        if self._loop is not None:
            self._loop.stop()

    async def run(self) -> None:
        restarts = 0
        while not self._stopping.is_set():
            try:
                await self._session()
                return
            except asyncio.CancelledError:
                # The consumer loop cancels its own backoff sleep on stop.
                if self._stopping.is_set():
                    return
                raise
            except (KafkaError, OSError) as exc:
                restarts += 1
                logger.warning(
                    "notifier.broker_unavailable",
                    extra={
                        "error": f"{type(exc).__name__}: {exc}",
                        "restarts": restarts,
                    },
                )
            except Exception:
                restarts += 1
                logger.exception(
                    "notifier.consumer_failed", extra={"restarts": restarts}
                )
            await self._pause(min(MAX_RESTART_DELAY, 0.5 * 2**restarts))

    async def _session(self) -> None:
        settings = self._settings
        topic = settings.auth_events_topic
        await ensure_topics(
            settings,
            [
                topic,
                settings.dead_letter_topic(topic),
                settings.notification_events_topic,
            ],
            client_id="notifier",
        )
        producer = create_producer(settings, "notifier")
        consumer = create_consumer(settings, settings.consumer_group)
        try:
            await producer.start()
            await consumer.start()
            loop = self._consumer_loop(consumer, producer)
            if self._partitions is None:
                loop.subscribe(topic)
            else:
                consumer.assign([TopicPartition(topic, p) for p in self._partitions])
            if self._stopping.is_set():
                return
            self._loop = loop
            logger.info(
                "notifier.consumer_started",
                extra={"topic": topic, "group": settings.consumer_group},
            )
            await loop.run()
        finally:
            if self._loop is not None:
                self._handled_before += self._loop.records_handled
            self._loop = None
            await consumer.stop()
            await producer.stop()

    def _consumer_loop(
        self, consumer: AIOKafkaConsumer, producer: AIOKafkaProducer
    ) -> ConsumerLoop:
        settings = self._settings
        send_notice = SendNotice(
            DeliveryLedger(self._engine),
            MailRenderer(
                sender=settings.mail_from,
                product_name=settings.product_name,
                public_url=settings.public_url,
            ),
            SmtpMailer(settings),
            OutcomePublisher(producer, settings.notification_events_topic, settings),
            sending_lease=timedelta(seconds=settings.sending_lease_seconds),
        )
        return ConsumerLoop(
            consumer,
            AuthEventHandler(send_notice, self._sealer),
            DeadLetterPublisher(producer, settings),
            name=settings.consumer_group,
            retry=RetryPolicy(
                max_attempts=settings.delivery_max_attempts,
                base_delay=settings.delivery_retry_base_seconds,
                max_delay=settings.delivery_retry_max_seconds,
            ),
            # A mail mostly waits on the SMTP server: the partitions of a fetch
            # are mailed side by side, each user's mails still in order (one
            # key, one partition).
            concurrent_partitions=True,
        )

    async def _pause(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
        except TimeoutError:
            return
