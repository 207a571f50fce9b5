"""What the services put on the broker, read without joining a group."""

import json
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition


async def events_on(bootstrap_servers: str, topic: str) -> list[dict[str, Any]]:
    """Every envelope on ``topic`` now, from the first offset."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(await _partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        envelopes: list[dict[str, Any]] = []
        while any([await consumer.position(p) < ends[p] for p in partitions]):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                envelopes.extend(json.loads(r.value) for r in records)
        return envelopes
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    await consumer.topics()  # fetches the metadata
    found = consumer.partitions_for_topic(topic)
    assert found, f"no topic {topic} on the broker"
    return set(found)
