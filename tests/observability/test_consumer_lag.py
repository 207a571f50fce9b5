"""Consumer lag per group and partition, as the group's offsets on the broker say."""

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
from shared.messaging.consumer import ConsumerLoop
from shared.messaging.consumer_lag import LagSampler
from shared.settings import KafkaSettings
from tests.polling import eventually
from tests.telemetry_capture import TelemetryCapture


def lag_points(telemetry: TelemetryCapture, group: str) -> dict[tuple[str, int], int]:
    return {
        (p.attributes["topic"], p.attributes["partition"]): p.value
        for p in telemetry.metric_points("messaging.kafka.consumer.lag")
        if p.attributes["group"] == group
    }


async def test_the_lag_is_what_the_group_has_not_committed_per_partition(
    kafka_settings: KafkaSettings, telemetry: TelemetryCapture
) -> None:
    topic = kafka_settings.auth_events_topic
    await ensure_topics(kafka_settings, [topic])
    producer = create_producer(kafka_settings, "lag-test")
    await producer.start()
    try:
        for partition, count in ((0, 5), (1, 2)):
            for _ in range(count):
                await producer.send_and_wait(topic, b"{}", partition=partition)
    finally:
        await producer.stop()
    group = f"lag-{uuid.uuid4().hex[:8]}"
    consumer = create_consumer(kafka_settings, group)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(3)]
    consumer.assign(partitions)
    sampler = LagSampler(consumer, group, every_seconds=0)
    try:
        await sampler.maybe_sample({})
        never_committed = lag_points(telemetry, group)

        await consumer.commit({partitions[0]: 3})
        await sampler.maybe_sample({partitions[1]: 2})
        after_commits = lag_points(telemetry, group)
    finally:
        sampler.close()
        await consumer.stop()

    assert never_committed == {(topic, 0): 5, (topic, 1): 2, (topic, 2): 0}
    assert after_commits == {(topic, 0): 2, (topic, 1): 0, (topic, 2): 0}
    assert lag_points(telemetry, group) == {}


async def test_records_sent_in_one_batch_count_one_by_one(
    kafka_settings: KafkaSettings, telemetry: TelemetryCapture
) -> None:
    """The relay sends several records per request; the embedded broker lists
    batches, not records, as end offsets, so the lag must not trust them alone."""
    topic = kafka_settings.auth_events_topic
    await ensure_topics(kafka_settings, [topic])
    producer = create_producer(kafka_settings, "lag-batch-test")
    await producer.start()
    try:
        sent = [await producer.send(topic, b"{}", partition=0) for _ in range(10)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    group = f"lag-{uuid.uuid4().hex[:8]}"
    consumer = create_consumer(kafka_settings, group)
    await consumer.start()
    partition = TopicPartition(topic, 0)
    consumer.assign([partition])
    sampler = LagSampler(consumer, group, every_seconds=0)
    try:
        await consumer.seek_to_beginning(partition)
        read = await consumer.getmany(partition, timeout_ms=5000, max_records=2)
        await consumer.commit({partition: 2})
        await sampler.maybe_sample({partition: 2})
        lag = lag_points(telemetry, group)
    finally:
        sampler.close()
        await consumer.stop()

    assert [r.offset for r in read[partition]] == [0, 1]
    assert lag == {(topic, 0): 8}


async def test_a_consumer_loop_reports_its_lag_until_it_stops(
    kafka_settings: KafkaSettings, telemetry: TelemetryCapture
) -> None:
    topic = kafka_settings.auth_events_topic
    await ensure_topics(kafka_settings, [topic])
    producer = create_producer(kafka_settings, "lag-loop-test")
    await producer.start()
    group = f"lag-{uuid.uuid4().hex[:8]}"
    consumer = create_consumer(kafka_settings, group)
    handled: list[int] = []

    async def handle(record: ConsumerRecord) -> None:
        handled.append(record.offset)

    loop = ConsumerLoop(
        consumer,
        handle,
        DeadLetterPublisher(producer, kafka_settings),
        name=group,
        lag_every_seconds=0,
    )
    try:
        for _ in range(4):
            await producer.send_and_wait(topic, b"{}", partition=1)
        await consumer.start()
        consumer.assign([TopicPartition(topic, p) for p in range(3)])
        running = asyncio.create_task(loop.run())

        async def caught_up() -> bool:
            return len(handled) == 4 and lag_points(telemetry, group) == {
                (topic, 0): 0,
                (topic, 1): 0,
                (topic, 2): 0,
            }

        await eventually(caught_up, 30, "the loop's lag at zero after handling")
        loop.stop()
        await running
    finally:
        await consumer.stop()
        await producer.stop()

    assert lag_points(telemetry, group) == {}
