"""The running service: consumer group, dead letters, committed offsets, rebuild.

One running audit per database, shared by the module's tests, because joining
a consumer group costs seconds on the test broker.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import select

from audit.adapters.tables import accounts, events, minute_counts
from audit.rebuild import rebuild
from shared.messaging import header_value
from shared.settings import KafkaSettings
from tests.audit.conftest import (
    RunningAudit,
    eventually,
    migrated_store,
    read_topic,
    running_audit,
    schema_differences,
)
from tests.audit.stream import NOW, Account, minutes

ANNA = Account("anna@example.com")
BEN = Account("ben@example.com", ip="203.0.113.50")


@pytest.fixture(scope="module")
async def audit(
    module_kafka: KafkaSettings, module_database_url: str
) -> AsyncIterator[RunningAudit]:
    async with running_audit(
        module_kafka, module_database_url, AUDIT_ALERT_EVALUATION_INTERVAL_S=3600
    ) as running:
        yield running


async def test_published_events_are_projected_with_their_trace(
    audit: RunningAudit,
) -> None:
    registered, sent = ANNA.registered(NOW), ANNA.email_sent(NOW + minutes(0.1))
    trace = await audit.publish(registered)
    await audit.publish(sent, topic=audit.settings.notification_events_topic)

    await audit.stored(registered, sent)

    items = (
        await audit.client.get("/v1/events", params={"email": "anna@example.com"})
    ).json()["items"]
    by_type = {i["event_type"]: i for i in items}
    assert by_type["registration_success"]["trace_id"] == trace.split("-")[1]
    assert by_type["registration_success"]["span_id"] == trace.split("-")[2]
    assert "sealed_token" not in by_type["registration_success"]["data"]
    assert by_type["email_sent"]["data"]["template"] == "verification"


async def test_the_running_service_reports_ready(audit: RunningAudit) -> None:
    response = await audit.client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "consumer": "ok",
    }


async def test_a_redelivered_event_is_stored_and_counted_once(
    audit: RunningAudit, module_database_url: str
) -> None:
    login = BEN.logged_in(NOW + minutes(2))
    await audit.publish(login)
    await audit.publish(login)
    marker = BEN.logged_in(NOW + minutes(3))
    await audit.publish(marker)  # same key, same partition: after both copies

    await audit.stored(marker)

    items = (
        await audit.client.get("/v1/events", params={"user_id": str(BEN.user_id)})
    ).json()["items"]
    assert [i["event_id"] for i in items].count(str(login.event_id)) == 1
    async with migrated_store(module_database_url) as store:
        counted = await store.rows(minute_counts)
    assert [r["count"] for r in counted if r["bucket_start"] == NOW + minutes(2)] == [1]


async def test_a_malformed_message_goes_to_the_dead_letter_topic(
    audit: RunningAudit, module_kafka: KafkaSettings
) -> None:
    topic = audit.settings.auth_events_topic
    before, after = ANNA.verified(NOW + minutes(5)), ANNA.logged_in(NOW + minutes(6))
    await audit.publish(before)
    await audit.producer.send_and_wait(
        topic,
        b'{"event_type": "login_success", "success": "perhaps"}',
        key=str(ANNA.user_id).encode(),
        headers=[
            ("event_type", b"login_success"),
            ("content-type", b"application/json"),
        ],
    )
    await audit.publish(after)

    await audit.stored(before, after)

    (dead,) = await read_topic(
        module_kafka, audit.settings.dead_letter_topic(topic), lambda r: len(r) >= 1
    )
    assert dead.value == b'{"event_type": "login_success", "success": "perhaps"}'
    assert header_value(dead.headers, "dlq.source_topic") == topic
    assert "EnvelopeError" in (header_value(dead.headers, "dlq.error") or "")


async def test_offsets_are_committed_once_events_are_stored(
    audit: RunningAudit,
) -> None:
    marker = BEN.verified(NOW + minutes(8))
    await audit.publish(marker)
    await audit.stored(marker)
    topic = audit.settings.auth_events_topic
    partitions = [TopicPartition(topic, p) for p in range(3)]
    reader = AIOKafkaConsumer(
        bootstrap_servers=audit.settings.kafka_bootstrap_servers,
        group_id=audit.settings.consumer_group,
        enable_auto_commit=False,
    )
    await reader.start()
    try:
        end: dict[TopicPartition, int] = await reader.end_offsets(partitions)

        async def committed_to_end() -> bool:
            committed: dict[TopicPartition, int] = {
                tp: await reader.committed(tp) or 0 for tp in partitions
            }
            return committed == end

        await eventually(committed_to_end, 10, "offsets committed to the end")
    finally:
        await reader.stop()


@pytest.mark.filterwarnings("ignore:autogenerate skipping")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based")
async def test_rebuild_equals_the_live_projection(
    audit: RunningAudit, module_kafka: KafkaSettings, module_database_url: str
) -> None:
    story = [
        BEN.login_failed(NOW + minutes(10)),
        BEN.locked(NOW + minutes(11)),
        BEN.reset_requested(NOW + minutes(12)),
        BEN.reset_done(NOW + minutes(13)),
        BEN.unlocked(NOW + minutes(13)),
    ]
    for envelope in story:
        await audit.publish(envelope)
    await audit.stored(*story)

    async with migrated_store(module_database_url) as store:
        live = await _snapshot(store.engine)
        report = await rebuild(
            audit.settings,
            (
                audit.settings.auth_events_topic,
                audit.settings.notification_events_topic,
            ),
            store.engine,
        )
        rebuilt = await _snapshot(store.engine)
        async with store.engine.connect() as conn:
            schema_drift = await conn.run_sync(schema_differences)

    assert report.malformed == 1
    assert report.messages == report.projected + 2  # the malformed one, the copy
    assert rebuilt == live
    assert schema_drift == []  # the indexes dropped for the load are back
    assert len(live["audit_events"]) == report.projected


@pytest.mark.filterwarnings("ignore:autogenerate skipping")
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based")
async def test_rebuild_reads_every_record_of_a_batch(
    audit: RunningAudit, module_database_url: str
) -> None:
    """The relay sends several records per request; a rebuild must read them all
    (the embedded broker counts batches, not records, in its end offsets)."""
    logins = [BEN.logged_in(NOW + minutes(20 + i / 10)) for i in range(40)]
    await audit.publish_together(*logins)
    await audit.stored(*logins)

    async with migrated_store(module_database_url) as store:
        live = await _snapshot(store.engine)
        await rebuild(
            audit.settings,
            (
                audit.settings.auth_events_topic,
                audit.settings.notification_events_topic,
            ),
            store.engine,
        )
        rebuilt = await _snapshot(store.engine)

    assert len(rebuilt["audit_events"]) == len(live["audit_events"])
    assert rebuilt == live


async def _snapshot(engine: Any) -> dict[str, list[dict[str, Any]]]:
    async with engine.connect() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in await conn.execute(
                    select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in (events, minute_counts, accounts)
        }
