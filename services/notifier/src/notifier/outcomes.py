"""``email_sent`` and ``email_failed`` on the notification topic."""

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from notifier.domain.delivery import Delivery, outcome_event
from notifier.errors import PublishFailed
from shared.events import encode_envelope
from shared.messaging import trace_headers
from shared.messaging.headers import current_trace_carrier


class OutcomePublisher:
    """Publishes the outcome of a delivery's last attempt, keyed by recipient,
    in the trace of the event that caused it."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def publish(self, delivery: Delivery) -> None:
        event = outcome_event(delivery)
        headers = [
            *trace_headers(current_trace_carrier()),
            ("event_type", event.event_type.value.encode()),
            ("event_id", str(event.event_id).encode()),
            ("content-type", b"application/json"),
        ]
        try:
            await self._producer.send_and_wait(
                self._topic, encode_envelope(event), key=event.key, headers=headers
            )
        except KafkaError as exc:
            raise PublishFailed(f"{type(exc).__name__}: {exc}") from exc
