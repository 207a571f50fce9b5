"""The dead-letter topic: where a message goes when it cannot be handled."""

import logging
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

from shared.settings import KafkaSettings

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 2000


class DeadLetterPublisher:
    """Copies a failed message to ``<topic>.dlq`` with its headers and the error.

    The original key, value and headers are kept byte for byte; ``dlq.*``
    headers say where it came from and why it could not be handled.
    """

    def __init__(self, producer: AIOKafkaProducer, settings: KafkaSettings) -> None:
        self._producer = producer
        self._settings = settings

    async def publish(self, record: ConsumerRecord, error: BaseException | str) -> None:
        reason = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        headers = [
            *(record.headers or ()),
            ("dlq.error", reason[:MAX_ERROR_CHARS].encode()),
            ("dlq.source_topic", record.topic.encode()),
            ("dlq.source_partition", str(record.partition).encode()),
            ("dlq.source_offset", str(record.offset).encode()),
            ("dlq.failed_at", datetime.now(UTC).isoformat().encode()),
        ]
        topic = self._settings.dead_letter_topic(record.topic)
        await self._producer.send_and_wait(
            topic, record.value, key=record.key, headers=headers
        )
        logger.error(
            "kafka.dead_lettered",
            extra={
                "source_topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "dead_letter_topic": topic,
                "error": reason[:200],
            },
        )
