"""Producer, consumer and admin factories with the project's defaults."""

import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from shared.settings import KafkaSettings

logger = logging.getLogger(__name__)


def create_producer(
    settings: KafkaSettings, client_id: str, *, request_timeout_ms: int = 10_000
) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica (``acks=all``).

    A send that gets no acknowledgement within ``request_timeout_ms`` fails.
    """
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.kafka_client_id_prefix}-{client_id}",
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=2,
        request_timeout_ms=request_timeout_ms,
    )


def create_consumer(
    settings: KafkaSettings, group_id: str, *topics: str, **overrides: object
) -> AIOKafkaConsumer:
    """A group consumer that commits only when told to, reading from the start."""
    options: dict[str, object] = {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "client_id": f"{settings.kafka_client_id_prefix}-{group_id}",
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "max_poll_records": 200,
        "fetch_max_wait_ms": settings.kafka_fetch_max_wait_ms,
        **overrides,
    }
    return AIOKafkaConsumer(*topics, **options)


def create_admin(settings: KafkaSettings, client_id: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.kafka_client_id_prefix}-{client_id}-admin",
        request_timeout_ms=10_000,
    )


async def ensure_topics(
    settings: KafkaSettings, topics: Iterable[str], client_id: str = "topics"
) -> list[str]:
    """Create the missing topics; answer the names that were created."""
    admin = create_admin(settings, client_id)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name,
                num_partitions=settings.topic_partitions,
                replication_factor=settings.topic_replication_factor,
            )
            for name in dict.fromkeys(topics)
            if name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                logger.debug("topics created concurrently by another process")
            logger.info(
                "kafka.topics_created", extra={"topics": [t.name for t in missing]}
            )
        return [t.name for t in missing]
    finally:
        await admin.close()
