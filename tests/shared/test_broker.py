"""The broker the suite runs on speaks the Kafka protocol for real."""

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.messaging import create_consumer, create_producer, ensure_topics
from shared.settings import KafkaSettings


async def test_produce_with_headers_and_read_back_in_a_group(
    kafka_settings: KafkaSettings,
) -> None:
    topic = kafka_settings.auth_events_topic
    assert await ensure_topics(kafka_settings, [topic]) == [topic]
    assert await ensure_topics(kafka_settings, [topic]) == []

    producer = create_producer(kafka_settings, "test")
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(
                topic,
                f"value-{i}".encode(),
                key=b"account-1",
                headers=[("traceparent", f"tp-{i}".encode()), ("event_type", b"x")],
            )
    finally:
        await producer.stop()

    group = f"group-{uuid.uuid4().hex[:6]}"
    consumer = create_consumer(kafka_settings, group, topic)
    await consumer.start()
    try:
        received: list[ConsumerRecord] = []
        while len(received) < 3:
            batch = await consumer.getmany(timeout_ms=10_000)
            assert batch, "no records within 10 s"
            for records in batch.values():
                received.extend(records)
        await consumer.commit()
        tp = TopicPartition(topic, received[0].partition)
        committed = await consumer.committed(tp)
    finally:
        await consumer.stop()

    assert [r.value for r in received] == [b"value-0", b"value-1", b"value-2"]
    assert {r.partition for r in received} == {tp.partition}  # one key, one partition
    assert [dict(r.headers)["traceparent"] for r in received] == [
        b"tp-0",
        b"tp-1",
        b"tp-2",
    ]
    assert committed == received[-1].offset + 1

    rejoined = AIOKafkaConsumer(
        bootstrap_servers=kafka_settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
    )
    await rejoined.start()
    try:
        assert await rejoined.committed(tp) == committed
        assert (await rejoined.end_offsets([tp]))[tp] == committed
    finally:
        await rejoined.stop()


async def test_consumers_hold_an_empty_fetch_as_long_as_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tansu answers a held fetch only when the wait ends: the local default
    is short, and a deployment on Apache Kafka sets Kafka's own 500 ms."""

    async def fetch_wait() -> int:
        consumer = create_consumer(KafkaSettings(), "g")
        try:
            return int(consumer._fetch_max_wait_ms)
        finally:
            await consumer.stop()

    assert await fetch_wait() == 50
    monkeypatch.setenv("KAFKA_FETCH_MAX_WAIT_MS", "500")
    assert await fetch_wait() == 500
