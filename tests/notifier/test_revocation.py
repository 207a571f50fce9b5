"""What the notifier relies on when its partitions are revoked mid-batch:
the record in flight finishes, the rest of the batch is left for the new
owner, and a record waiting out a retry backoff does not hold the rebalance.

The revocation is driven by hand on a consumer that reads its partition
without a group join, so the test needs no rebalance of the test broker.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.messaging import (
    DeadLetterPublisher,
    create_consumer,
    create_producer,
    ensure_topics,
)
from shared.messaging.consumer import ConsumerLoop, RetryPolicy
from shared.settings import KafkaSettings
from tests.notifier.conftest import eventually

Handler = Callable[[ConsumerRecord], Awaitable[None]]


@asynccontextmanager
async def loop_over_five_records(
    settings: KafkaSettings, handler: Handler, retry: RetryPolicy
) -> AsyncIterator[tuple[ConsumerLoop, AIOKafkaConsumer, TopicPartition]]:
    topic = settings.auth_events_topic
    await ensure_topics(settings, [topic, settings.dead_letter_topic(topic)])
    producer = create_producer(settings, "test")
    await producer.start()
    for i in range(5):
        await producer.send_and_wait(topic, f"record-{i}".encode(), partition=0)
    tp = TopicPartition(topic, 0)
    consumer = create_consumer(settings, f"group-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    consumer.assign([tp])
    loop = ConsumerLoop(
        consumer,
        handler,
        DeadLetterPublisher(producer, settings),
        name="test",
        retry=retry,
    )
    task = asyncio.create_task(loop.run())
    try:
        yield loop, consumer, tp
    finally:
        loop.stop()
        await asyncio.wait([task], timeout=10)
        await consumer.stop()
        await producer.stop()


async def test_the_record_in_flight_finishes_and_the_rest_of_the_batch_waits(
    kafka_settings: KafkaSettings,
) -> None:
    handled: list[bytes] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_handler(record: ConsumerRecord) -> None:
        started.set()
        await release.wait()
        handled.append(record.value)

    async with loop_over_five_records(kafka_settings, slow_handler, RetryPolicy()) as (
        loop,
        consumer,
        tp,
    ):
        await asyncio.wait_for(started.wait(), timeout=20)
        revocation = asyncio.create_task(loop.on_partitions_revoked([tp]))
        await asyncio.sleep(0.05)  # the revocation waits for the record in flight
        assert not revocation.done()
        release.set()
        await revocation
        handled_at_revocation = list(handled)
        committed = await consumer.committed(tp)

    assert handled_at_revocation == [b"record-0"]
    assert committed == 1


async def test_a_record_in_retry_backoff_is_dropped_for_the_new_owner(
    kafka_settings: KafkaSettings,
) -> None:
    attempts: list[int] = []

    async def failing_handler(record: ConsumerRecord) -> None:
        attempts.append(record.offset)
        raise ConnectionError("SMTP relay unreachable")

    retry = RetryPolicy(max_attempts=3, base_delay=30.0, max_delay=30.0)
    async with loop_over_five_records(kafka_settings, failing_handler, retry) as (
        loop,
        consumer,
        tp,
    ):
        await eventually(lambda: len(attempts) == 1)
        await asyncio.wait_for(loop.on_partitions_revoked([tp]), timeout=10)
        committed = await consumer.committed(tp)

    assert attempts == [0]  # no retry ran to its end before the revocation
    assert committed is None  # nothing was handled: the new owner starts at 0
