"""Hostile messages on the auth events topic never crash a consumer.

Arbitrary bytes and mutated envelopes (hypothesis, derandomized) are handed to
the notifier's and the audit's handlers, then produced onto a real broker in
front of the running consumers. A message the decoder refuses raises
``EnvelopeError`` or ``PoisonMessage`` (dead-lettered at once by the consumer
loop), never another error (which would be retried as if transient); one that
decodes is handled: mailed only to the address it names, stored as sent.
"""

from collections.abc import Callable
from typing import Any, cast
from uuid import uuid4

import pytest
from aiokafka.structs import ConsumerRecord
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from audit.adapters.tables import events
from audit.projection import Projection, audit_event
from notifier.consumer import AuthEventHandler
from notifier.domain.notices import Notice
from notifier.send_notice import SendNotice
from shared.events import EnvelopeError, EventEnvelope, decode_envelope
from shared.messaging import header_value
from shared.messaging.consumer import PoisonMessage
from shared.sealing import TokenSealer
from shared.settings import KafkaSettings
from tests.audit.conftest import migrated_store, running_audit
from tests.audit.stream import Account
from tests.identity.kafka_reading import eventually, read_topic
from tests.notifier.conftest import running_notifier
from tests.reliability.envelope_mutations import hostile_values, valid_envelopes

EXAMPLES = 300
INJECTED_RECIPIENTS = [
    "ada@example.com\r\nBcc: eve@evil.example",
    "ada@example.com>\r\nRCPT TO:<eve@evil.example",
    "ada@example.com\x00eve@evil.example",
    "ada@example.com, eve@evil.example",
]


def examples(strategy: st.SearchStrategy[bytes], count: int) -> list[bytes]:
    """``count`` values of ``strategy``, the same ones on every run."""
    found: list[bytes] = []

    @given(strategy)
    @settings(
        max_examples=count,
        derandomize=True,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    def collect(value: bytes) -> None:
        found.append(value)

    collect()
    return found


def record(value: bytes, offset: int = 0, topic: str = "auth.events") -> ConsumerRecord:
    key = b"6a1f3c52-0d7e-4e55-9a4c-2b1b2d3f4a5b"
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=key,
        value=value,
        checksum=None,
        serialized_key_size=len(key),
        serialized_value_size=len(value),
        headers=[("content-type", b"application/json")],
    )


def decodes(value: bytes) -> EventEnvelope | None:
    try:
        return decode_envelope(value)
    except EnvelopeError:
        return None


class RecordedNotices:
    """Stands in for the delivery (ledger, SMTP), which is not what is fuzzed."""

    def __init__(self) -> None:
        self.notices: list[Notice] = []

    async def __call__(self, notice: Notice) -> None:
        self.notices.append(notice)


async def test_the_notifier_handler_refuses_or_mails_only_the_named_address(
    sealer: TokenSealer,
) -> None:
    sent = RecordedNotices()
    handler = AuthEventHandler(cast(SendNotice, sent), sealer)
    outcomes: dict[str, int] = {}

    for n, value in enumerate(
        examples(hostile_values(valid_envelopes(sealer)), EXAMPLES)
    ):
        before = len(sent.notices)
        try:
            await handler(record(value, n))
            outcome = "handled"
        except (EnvelopeError, PoisonMessage) as refused:
            outcome = type(refused).__name__
            assert len(sent.notices) == before
        except Exception as error:
            pytest.fail(f"{type(error).__name__}: {error} for {value[:300]!r}")
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        for notice in sent.notices[before:]:
            envelope = decodes(value)
            assert envelope is not None and notice.recipient == envelope.email

    assert outcomes.get("EnvelopeError", 0) > EXAMPLES // 3
    assert outcomes.get("handled", 0) > 0  # mutations that stay valid get through


async def test_the_audit_handler_refuses_or_stores_what_it_was_sent(
    sealer: TokenSealer, database_url: str
) -> None:
    values = examples(hostile_values(valid_envelopes(sealer)), EXAMPLES)
    stored = 0
    async with migrated_store(database_url) as store:
        projection = Projection(store.engine)
        for n, value in enumerate(values):
            try:
                audit_event(record(value, n))
            except EnvelopeError:
                continue
            except Exception as error:
                pytest.fail(f"{type(error).__name__}: {error} for {value[:300]!r}")
            try:
                await projection.handle([record(value, n)])
            except Exception as error:
                pytest.fail(
                    f"a decodable event was not stored ({type(error).__name__}: "
                    f"{error}), so it would be retried and dead-lettered: "
                    f"{value[:300]!r}"
                )
            stored += 1
        rows = await store.count(events)

    assert stored > 0
    decoded = [e for e in map(decodes, values) if e is not None]
    assert rows == len({e.event_id for e in decoded})


def _dead_values(kafka: KafkaSettings) -> Callable[[], Any]:
    topic = kafka.dead_letter_topic(kafka.auth_events_topic)

    async def read() -> list[ConsumerRecord]:
        return await read_topic(kafka, topic)

    return read


async def test_hostile_messages_on_the_broker_are_dead_lettered_and_mail_goes_on(
    kafka_settings: KafkaSettings, sqlite_url: str, sealer: TokenSealer
) -> None:
    hostile = examples(hostile_values(valid_envelopes(sealer)), 40)
    refused = [v for v in hostile if decodes(v) is None]
    async with running_notifier(
        kafka_settings, sqlite_url, sealer, NOTIFIER_MAX_ATTEMPTS=2
    ) as notifier:
        topic = notifier.settings.auth_events_topic
        for value in hostile:
            await notifier.producer.send_and_wait(
                topic, value, key=b"6a1f3c52-0d7e-4e55-9a4c-2b1b2d3f4a5b"
            )
        for injected in INJECTED_RECIPIENTS:  # as if identity had let them through
            await notifier.publish(notifier.events.registered(injected, "t-evil"))
        after = notifier.events.registered("zoe@example.com", "t-after")
        await notifier.publish(after)

        await notifier.mails_to("zoe@example.com")
        read = _dead_values(kafka_settings)

        expected = len(refused) + len(INJECTED_RECIPIENTS)  # none is one address

        async def all_dead() -> bool:
            return len(await read()) >= expected

        await eventually(all_dead, 30, f"{expected} dead letters")
        dead = await read()

    assert set(refused) <= {d.value for d in dead}
    assert len(dead) == expected
    assert all(header_value(d.headers, "dlq.error") for d in dead)
    recipients = {r for m in notifier.mailbox.mails for r in m.recipients}
    assert recipients <= {"ada@example.com", "zoe@example.com"}
    assert "evil.example" not in str(notifier.mailbox.rcpt_attempts)
    assert all(b"evil.example" not in m.raw for m in notifier.mailbox.mails)


async def test_hostile_messages_reach_the_audit_dead_letter_topic_not_its_store(
    kafka_settings: KafkaSettings, sqlite_url: str, sealer: TokenSealer
) -> None:
    hostile = examples(hostile_values(valid_envelopes(sealer)), 40)
    refused = [v for v in hostile if decodes(v) is None]
    marker = Account(f"marker.{uuid4().hex[:6]}@example.com").logged_in(
        valid_envelopes(sealer)[0].occurred_at
    )
    async with running_audit(
        kafka_settings, sqlite_url, AUDIT_ALERT_EVALUATION_INTERVAL_S=3600
    ) as audit:
        for value in hostile:
            await audit.producer.send_and_wait(
                audit.settings.auth_events_topic, value, key=marker.key
            )
        await audit.publish(marker)
        await audit.stored(marker)
        read = _dead_values(kafka_settings)

        async def all_dead() -> bool:
            return len(await read()) >= len(refused)

        await eventually(all_dead, 30, f"{len(refused)} dead letters")
        dead = await read()
        ready = await audit.client.get("/readyz")

    assert sorted(d.value for d in dead) == sorted(refused)
    assert ready.status_code == 200
