"""``email_sent`` and ``email_failed`` on the notification topic."""

import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from notifier.domain.delivery import Delivery, outcome_event
from notifier.errors import PublishFailed
from shared.events import encode_envelope
from shared.messaging import ensure_topics, trace_headers
from shared.messaging.headers import current_trace_carrier
from shared.settings import KafkaSettings

logger = logging.getLogger(__name__)


class OutcomePublisher:
    """Publishes the outcome of a delivery's last attempt, keyed by recipient,
    in the trace of the event that caused it."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, kafka: KafkaSettings
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._kafka = kafka

    async def publish(self, delivery: Delivery) -> None:
        event = outcome_event(delivery)
        headers = [
            *trace_headers(current_trace_carrier()),
            ("event_type", event.event_type.value.encode()),
            ("event_id", str(event.event_id).encode()),
            ("content-type", b"application/json"),
        ]
        try:
            await self._confirm_topic()
            await self._producer.send_and_wait(
                self._topic, encode_envelope(event), key=event.key, headers=headers
            )
        except KafkaError as exc:
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc

    async def _confirm_topic(self) -> None:
        """Create the topic again if the broker forgot it.

        A memory-only broker that restarted has no topics, and the embedded
        one acknowledges records for a topic it does not have, which are then
        lost: the audit would never see these outcomes.
        """
        metadata = await self._producer.client.fetch_all_metadata()
        if metadata.partitions_for_topic(self._topic) is None:
            logger.warning("notifier.topic_missing", extra={"topic": self._topic})
            await ensure_topics(self._kafka, [self._topic], client_id="notifier")
            await self._producer.client.force_metadata_update()
