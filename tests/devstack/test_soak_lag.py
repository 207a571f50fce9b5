"""The soak's consumer lag: what each group has not committed, record by record."""

import asyncio

from aiokafka import AIOKafkaConsumer, TopicPartition

from devstack.soak import SoakOptions, consumer_lag
from shared.messaging import create_producer, ensure_topics
from shared.settings import KafkaSettings


async def test_the_lag_counts_records_sent_in_one_batch(
    kafka_settings: KafkaSettings,
) -> None:
    topic = kafka_settings.auth_events_topic
    await ensure_topics(kafka_settings, [topic])
    producer = create_producer(kafka_settings, "soak-lag-test")
    await producer.start()
    try:
        sent = [await producer.send(topic, b"{}", partition=1) for _ in range(12)]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    group = f"soak-lag-{topic}"
    committer = AIOKafkaConsumer(
        bootstrap_servers=kafka_settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
    )
    await committer.start()
    try:
        committer.assign([TopicPartition(topic, 1)])
        await committer.commit({TopicPartition(topic, 1): 5})
    finally:
        await committer.stop()
    options = SoakOptions(
        identity_url="",
        audit_url="",
        mailbox_url="",
        bootstrap_servers=kafka_settings.kafka_bootstrap_servers,
        ports={},
        topic=topic,
    )

    lag = await consumer_lag(options, groups=(group, f"never-{topic}"))

    assert lag == {group: 7, f"never-{topic}": 12}
