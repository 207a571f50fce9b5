"""The consumer loop hands the partitions of one fetch over side by side."""

import asyncio
import uuid

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.messaging import (
    DeadLetterPublisher,
    create_consumer,
    create_producer,
    ensure_topics,
)
from shared.messaging.consumer import ConsumerLoop, RetryPolicy
from shared.settings import KafkaSettings
from tests.polling import eventually


async def handled_in_order(
    kafka_settings: KafkaSettings, concurrent_partitions: bool
) -> list[int]:
    """Partition 0's record waits (up to 5 s) for partition 1's to be done."""
    topic = kafka_settings.auth_events_topic
    await ensure_topics(
        kafka_settings, [topic, kafka_settings.dead_letter_topic(topic)]
    )
    producer = create_producer(kafka_settings, "loop-test")
    await producer.start()
    for partition in (0, 1):
        await producer.send_and_wait(topic, b"{}", partition=partition)
    consumer = create_consumer(kafka_settings, f"loop-{uuid.uuid4().hex[:8]}")
    await consumer.start()
    consumer.assign([TopicPartition(topic, p) for p in (0, 1)])
    handled: list[int] = []
    second_done = asyncio.Event()

    async def handle(record: ConsumerRecord) -> None:
        if record.partition == 0:
            await asyncio.wait_for(second_done.wait(), 5)
        handled.append(record.partition)
        if record.partition == 1:
            second_done.set()

    loop = ConsumerLoop(
        consumer,
        handle,
        DeadLetterPublisher(producer, kafka_settings),
        name="loop-test",
        retry=RetryPolicy(max_attempts=1),  # a wait that ran out: dead-lettered
        concurrent_partitions=concurrent_partitions,
    )
    running = asyncio.create_task(loop.run())
    try:

        async def both_done() -> bool:
            return loop.records_handled == 2

        await eventually(both_done, 20, "both records handled or dead-lettered")
    finally:
        loop.stop()
        await running
        await consumer.stop()
        await producer.stop()
    return handled


async def test_partitions_of_one_fetch_are_handled_side_by_side(
    kafka_settings: KafkaSettings,
) -> None:
    assert await handled_in_order(kafka_settings, concurrent_partitions=True) == [1, 0]
