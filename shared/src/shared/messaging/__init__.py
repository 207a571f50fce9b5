"""Kafka plumbing over aiokafka: factories, topics, dead letters, consumer loop."""

from shared.messaging.dead_letter import DeadLetterPublisher
from shared.messaging.headers import (
    Headers,
    context_from_headers,
    header_value,
    trace_headers,
)
from shared.messaging.kafka import (
    create_admin,
    create_consumer,
    create_producer,
    ensure_topics,
)

__all__ = [
    "DeadLetterPublisher",
    "Headers",
    "context_from_headers",
    "create_admin",
    "create_consumer",
    "create_producer",
    "ensure_topics",
    "header_value",
    "trace_headers",
]
