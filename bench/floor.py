"""The floor of the event pipeline: a bare aiokafka produce-to-consume trip.

A producer configured like the services' (acks=all, linger 2 ms, no
idempotence) sends at a steady rate; a consumer assigned to the topic (no
group, read_committed, like the services' consumers) receives. Each message
carries its send time; the trip is receive time minus send time.
"""

import asyncio
import struct
import time
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from bench.stats import percentile
from shared.messaging import ensure_topics
from shared.settings import KafkaSettings


async def round_trips(
    bootstrap: str, rate: float, count: int, fetch_max_wait_ms: int = 500
) -> dict[str, Any]:
    topic = f"bench.floor.{uuid.uuid4().hex[:8]}"
    settings = KafkaSettings(kafka_bootstrap_servers=bootstrap, topic_partitions=6)
    await ensure_topics(settings, [topic], client_id="bench-floor")
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=2, enable_idempotence=False
    )
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        isolation_level="read_committed",
        fetch_max_wait_ms=fetch_max_wait_ms,
    )
    await producer.start()
    await consumer.start()
    trips: list[float] = []
    try:
        partitions = [
            TopicPartition(topic, p)
            for p in sorted(consumer.partitions_for_topic(topic) or range(6))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        for tp in partitions:
            await consumer.position(tp)
        done = asyncio.Event()

        async def receive() -> None:
            while len(trips) < count:
                batch = await consumer.getmany(timeout_ms=100)
                now = time.time()
                for records in batch.values():
                    for record in records:
                        (sent,) = struct.unpack("!d", record.value[:8])
                        trips.append((now - sent) * 1000)
            done.set()

        receiving = asyncio.create_task(receive())
        start = time.monotonic()
        for n in range(count):
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
            value = struct.pack("!d", time.time()) + b"x" * 600
            await producer.send(topic, value, key=str(n % 64).encode())
        try:
            await asyncio.wait_for(done.wait(), 30)
        finally:
            receiving.cancel()
    finally:
        await producer.stop()
        await consumer.stop()
    return {
        "fetch_max_wait_ms": fetch_max_wait_ms,
        "messages": len(trips),
        "p50_ms": percentile(trips, 0.5),
        "p99_ms": percentile(trips, 0.99),
        "max_ms": max(trips, default=float("nan")),
    }
