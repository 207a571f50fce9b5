"""The outbox relay: every recorded event reaches the topic, once, in order per key."""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.broker import EmbeddedBroker
from identity.adapters.outbox_relay import OutboxRelay, RelayOptions
from identity.settings import IdentitySettings
from shared.events import EventEnvelope, EventType, decode_envelope
from shared.messaging import header_value
from shared.settings import KafkaSettings
from tests.identity.conftest import Identity, running, with_broker
from tests.identity.kafka_reading import eventually, pending_rows, read_topic
from tests.telemetry_capture import TelemetryCapture

FAST_RELAY: dict[str, Any] = {
    "relay_enabled": True,
    "relay_poll_seconds": 0.2,
    "relay_send_timeout_seconds": 2.0,
    "relay_max_backoff_seconds": 1.0,
    "relay_lease_seconds": 5.0,
}


def _engine(identity: Identity) -> AsyncEngine:
    engine: AsyncEngine = identity.app.state.engine
    return engine


def _per_key(records: list[ConsumerRecord]) -> dict[bytes, list[EventEnvelope]]:
    by_key: dict[bytes, list[EventEnvelope]] = defaultdict(list)
    for record in records:
        by_key[record.key].append(decode_envelope(record.value))
    return by_key


@pytest.fixture
async def relaying(
    identity_settings: IdentitySettings, kafka_settings: KafkaSettings
) -> AsyncIterator[Identity]:
    settings = with_broker(identity_settings, kafka_settings, **FAST_RELAY)
    async with running(settings) as service:
        yield service


async def test_the_relay_publishes_each_event_once_in_order_per_account(
    relaying: Identity, kafka_settings: KafkaSettings
) -> None:
    for name in ("ada", "bob", "cyd"):
        await relaying.register_verified(f"{name}@example.com")
        await relaying.log_in(f"{name}@example.com", "wrong horse battery")
    await relaying.log_in("nobody@example.com", "wrong horse battery")
    recorded = await relaying.envelopes()

    await eventually(lambda: _drained(relaying), what="an empty outbox")
    records = await read_topic(kafka_settings, kafka_settings.auth_events_topic)

    assert sorted(str(decode_envelope(r.value).event_id) for r in records) == sorted(
        str(e.event_id) for e in recorded
    )
    for key, envelopes in _per_key(records).items():
        assert [e.event_id for e in envelopes] == [
            e.event_id for e in recorded if e.key == key
        ]
    record = records[0]
    envelope = decode_envelope(record.value)
    assert record.key == envelope.key
    assert header_value(record.headers, "event_type") == envelope.event_type.value
    assert header_value(record.headers, "event_id") == str(envelope.event_id)
    assert header_value(record.headers, "content-type") == "application/json"


async def _drained(identity: Identity) -> bool:
    return await pending_rows(_engine(identity)) == 0


async def test_the_publish_span_continues_the_requests_trace(
    relaying: Identity, kafka_settings: KafkaSettings, telemetry: TelemetryCapture
) -> None:
    trace_id = uuid.uuid4().hex
    await relaying.http.post(
        "/v1/password/forgot",
        json={"email": "nobody@example.com"},
        headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"},
    )
    await eventually(lambda: _drained(relaying), what="an empty outbox")

    (record,) = await read_topic(kafka_settings, kafka_settings.auth_events_topic)

    traceparent = header_value(record.headers, "traceparent")
    assert traceparent is not None and traceparent.split("-")[1] == trace_id
    publish = [
        s
        for s in telemetry.finished_spans()
        if s.kind == SpanKind.PRODUCER and s.context.trace_id == int(trace_id, 16)
    ]
    assert len(publish) == 1
    assert publish[0].name == f"{kafka_settings.auth_events_topic} publish"
    assert f"{publish[0].context.span_id:016x}" == traceparent.split("-")[2]
    in_trace = {
        s.name: s
        for s in telemetry.finished_spans()
        if s.context.trace_id == int(trace_id, 16)
    }
    append = in_trace["auth.event_store.append"]
    assert publish[0].parent is not None and append.parent is not None
    assert publish[0].parent.span_id == append.context.span_id
    assert append.parent.span_id == in_trace["auth.password_forgot"].context.span_id


async def test_a_broker_outage_loses_and_duplicates_nothing(
    identity_settings: IdentitySettings,
    kafka_settings: KafkaSettings,
    own_broker: EmbeddedBroker,
) -> None:
    kafka = kafka_settings.model_copy(
        update={"kafka_bootstrap_servers": own_broker.bootstrap_servers}
    )
    settings = with_broker(identity_settings, kafka, **FAST_RELAY)
    async with running(settings) as service:
        await service.register_verified("before@example.com")
        await eventually(lambda: _drained(service), what="the first events published")
        published_before = len(await service.envelopes())

        await own_broker.astop()
        for n in range(6):
            assert (await service.register(f"user{n}@example.com")).status_code == 202
            token = await service.token_from(EventType.REGISTRATION_SUCCESS)
            verified = await service.http.post(
                "/v1/users/verification", json={"token": token}
            )
            assert verified.status_code == 200
            assert (await service.log_in(f"user{n}@example.com")).status_code == 200
        assert (await service.http.get("/readyz")).status_code == 503
        during = (await service.envelopes())[published_before:]
        assert await pending_rows(_engine(service)) == len(during) == 18
        # Once a cycle has failed, no send of the outage is left in flight to
        # reach the restarted broker ahead of the relay's topic check.
        await eventually(lambda: _has_failed(service), what="the relay noticing")

        await own_broker.astart()  # empty: a memory-only broker forgets its topics
        await eventually(lambda: _drained(service), what="the backlog drained")

        records = await read_topic(kafka, kafka.auth_events_topic)
        on_topic = [decode_envelope(r.value).event_id for r in records]
        for envelope in during:
            assert on_topic.count(envelope.event_id) == 1
        outage_ids = {e.event_id for e in during}
        for key, envelopes in _per_key(records).items():
            published = [e.event_id for e in envelopes if e.event_id in outage_ids]
            assert published == [e.event_id for e in during if e.key == key]
        assert (await service.http.get("/readyz")).status_code == 200


async def _has_failed(identity: Identity) -> bool:
    return bool(identity.app.state.relay.consecutive_failures)


class _StuckProducer(AIOKafkaProducer):  # type: ignore[misc]
    """A real producer whose sends never get an answer: the relay hangs mid-publish."""

    def __init__(self, in_flight: asyncio.Event, **options: Any) -> None:
        super().__init__(**options)
        self._in_flight = in_flight

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> Any:
        self._in_flight.set()
        await asyncio.Event().wait()


async def test_a_relay_killed_between_commit_and_publish_loses_nothing(
    identity_settings: IdentitySettings, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    settings = with_broker(identity_settings, kafka_settings, relay_enabled=False)
    topic = kafka_settings.auth_events_topic
    options = RelayOptions(poll_seconds=0.2, max_backoff_seconds=1.0)
    async with running(settings) as service:
        await service.register("ada@example.com")  # committed, not published
        (recorded,) = await service.envelopes()
        engine = _engine(service)

        in_flight = asyncio.Event()
        stuck: list[_StuckProducer] = []

        def stuck_producer() -> AIOKafkaProducer:
            stuck.append(
                _StuckProducer(
                    in_flight, bootstrap_servers=kafka_settings.kafka_bootstrap_servers
                )
            )
            return stuck[-1]

        doomed = OutboxRelay(
            engine,
            settings,
            RelayOptions(lease=timedelta(seconds=1)),
            producer_factory=stuck_producer,
            holder="doomed",
        )
        crash = asyncio.create_task(
            doomed.cycle()
        )  # no clean-up: the lease stays taken
        await asyncio.wait_for(in_flight.wait(), 30)
        crash.cancel()
        with pytest.raises(asyncio.CancelledError):
            await crash
        for producer in stuck:  # the sockets a dead process would have lost
            await producer.stop()
        assert await pending_rows(engine) == 1

        successor = OutboxRelay(engine, settings, options, holder="successor")
        task = asyncio.create_task(successor.run())
        try:
            await eventually(
                lambda: _pending_is_zero(engine), what="the event published"
            )
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        records = await read_topic(kafka_settings, topic)
        assert [decode_envelope(r.value).event_id for r in records] == [
            recorded.event_id
        ]


async def _pending_is_zero(engine: AsyncEngine) -> bool:
    return await pending_rows(engine) == 0
