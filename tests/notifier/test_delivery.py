"""Exactly once as far as a user can tell: redeliveries, SMTP outages, refusals.

Each test runs on SQLite and on PostgreSQL: the delivery ledger decides.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from notifier.domain.delivery import DeliveryState
from notifier.domain.notices import notice_for
from notifier.ledger import DeliveryLedger
from shared import database
from shared.events import EventEnvelope, EventType, FailureReason
from shared.messaging import header_value
from shared.sealing import TokenSealer
from shared.settings import KafkaSettings
from tests.notifier.conftest import RunningNotifier, eventually, running_notifier
from tests.notifier.topic_reader import TopicReader

# "SMTP down for ten seconds, then up": several failed attempts, then the
# relay comes back within the retry budget.
SMTP_DOWN_SECONDS = 10.0


def address() -> str:
    return f"user-{uuid4().hex[:10]}@example.org"


@pytest.fixture
async def ledger(notifier: RunningNotifier) -> AsyncIterator[DeliveryLedger]:
    engine = database.create_engine(notifier.settings.database_url)
    yield DeliveryLedger(engine)
    await engine.dispose()


async def mail_for(notifier: RunningNotifier, event: EventEnvelope) -> None:
    await eventually(
        lambda: any(m.event_id == str(event.event_id) for m in notifier.mailbox.mails),
        what=f"the mail of {event.event_type}",
    )


def outcomes_of(reader: TopicReader, cause: UUID) -> list[EventEnvelope]:
    return [
        e
        for e in reader.envelopes()
        if getattr(e.data, "cause_event_id", None) == cause
    ]


async def test_the_same_event_delivered_twice_yields_one_mail(
    notifier: RunningNotifier, ledger: DeliveryLedger
) -> None:
    email, user_id = address(), uuid4()
    event = notifier.events.registered(email, "tok-once", user_id)
    after = notifier.events.plain(EventType.PASSWORD_CHANGED, email, user_id)

    await notifier.publish(event)
    await notifier.publish(event)
    await notifier.publish(after)  # same key: handled after both copies

    await mail_for(notifier, after)
    assert Counter(m.event_id for m in notifier.mailbox.to(email)) == {
        str(event.event_id): 1,
        str(after.event_id): 1,
    }
    delivery = await ledger.find(event.event_id)
    assert delivery is not None
    assert (delivery.state, delivery.attempts) == (DeliveryState.SENT, 1)
    async with TopicReader(
        notifier.settings, notifier.settings.notification_events_topic
    ) as reader:
        await reader.wait_for(lambda r: len(r) >= 3)
        sent = outcomes_of(reader, event.event_id)
    # Published again for the copy, under the same event id: consumers
    # de-duplicate it.
    assert {e.event_id for e in sent} == {sent[0].event_id}
    assert sent[0].event_type is EventType.EMAIL_SENT


async def test_smtp_down_for_a_while_then_up_delivers_the_mail_once(
    kafka_settings: KafkaSettings, database_url: str, sealer: TokenSealer
) -> None:
    async with running_notifier(
        kafka_settings, database_url, sealer, smtp_started=False
    ) as notifier:
        email, user_id = address(), uuid4()
        event = notifier.events.registered(email, "tok-outage", user_id)
        topic = notifier.settings.notification_events_topic
        async with TopicReader(notifier.settings, topic) as reader:
            loop_time = asyncio.get_running_loop().time
            down_since = loop_time()
            await notifier.publish(event)
            await reader.wait_for(lambda r: len(r) >= 3)  # three failed attempts
            await eventually(lambda: loop_time() - down_since >= SMTP_DOWN_SECONDS)

            await notifier.smtp.start()

            after = notifier.events.plain(EventType.PASSWORD_CHANGED, email, user_id)
            await notifier.publish(after)
            await mail_for(notifier, after)
            await reader.wait_for(
                lambda r: any(
                    e.event_type is EventType.EMAIL_SENT
                    and e.data.cause_event_id == event.event_id  # type: ignore[attr-defined]
                    for e in reader.envelopes()
                )
            )
            outcomes = outcomes_of(reader, event.event_id)

    assert [m.event_id for m in notifier.mailbox.to(email)] == [
        str(event.event_id),
        str(after.event_id),
    ]
    *failed, sent = outcomes
    assert len(failed) >= 3
    assert {e.event_type for e in failed} == {EventType.EMAIL_FAILED}
    assert {e.reason for e in failed} == {FailureReason.SMTP_TRANSIENT}
    assert [e.data.attempt for e in outcomes] == list(range(1, len(outcomes) + 1))  # type: ignore[attr-defined]
    assert sent.event_type is EventType.EMAIL_SENT
    assert sent.data.smtp_code == 250  # type: ignore[attr-defined]
    assert sent.email == email and sent.user_id == user_id


async def test_a_4xx_reply_is_retried_until_the_mail_goes_out(
    notifier: RunningNotifier,
) -> None:
    email, user_id = address(), uuid4()
    notifier.mailbox.script(email, "451 4.3.0 Try again later", "452 4.2.2 Full")
    event = notifier.events.reset_requested(email, "tok-4xx", user_id)

    await notifier.publish(event)

    [mail] = await notifier.mails_to(email)
    assert mail.token_of("/reset-password") == "tok-4xx"
    assert notifier.mailbox.rcpt_attempts[email] == 3
    async with TopicReader(
        notifier.settings, notifier.settings.notification_events_topic
    ) as reader:
        await reader.wait_for(lambda r: len(r) >= 3)
        outcomes = outcomes_of(reader, event.event_id)
    assert [(e.event_type, e.data.smtp_code) for e in outcomes] == [  # type: ignore[attr-defined]
        (EventType.EMAIL_FAILED, 451),
        (EventType.EMAIL_FAILED, 452),
        (EventType.EMAIL_SENT, 250),
    ]


async def test_a_5xx_reply_publishes_email_failed_and_is_never_retried(
    notifier: RunningNotifier, ledger: DeliveryLedger
) -> None:
    email, user_id = address(), uuid4()
    notifier.mailbox.refuse(email, "550 5.1.1 Mailbox unavailable")
    event = notifier.events.registered(email, "tok-5xx", user_id)
    other_address = address()
    after = notifier.events.plain(EventType.PASSWORD_CHANGED, other_address, user_id)

    await notifier.publish(event)
    await notifier.publish(event)  # a redelivery does not try again either
    await notifier.publish(after)

    await mail_for(notifier, after)
    assert notifier.mailbox.to(email) == []
    assert notifier.mailbox.rcpt_attempts[email] == 1
    delivery = await ledger.find(event.event_id)
    assert delivery is not None
    assert (delivery.state, delivery.smtp_code) == (DeliveryState.FAILED, 550)
    async with TopicReader(
        notifier.settings, notifier.settings.notification_events_topic
    ) as reader:
        await reader.wait_for(lambda r: len(r) >= 2)
        [failed, *copies] = outcomes_of(reader, event.event_id)
    assert failed.event_type is EventType.EMAIL_FAILED
    assert failed.reason == FailureReason.SMTP_PERMANENT
    assert failed.data.smtp_code == 550  # type: ignore[attr-defined]
    assert failed.data.attempt == 1  # type: ignore[attr-defined]
    assert failed.data.template == "verify_email"  # type: ignore[attr-defined]
    assert failed.data.recipient == email  # type: ignore[attr-defined]
    assert "Mailbox unavailable" in (failed.data.error or "")  # type: ignore[attr-defined]
    assert all(c.event_id == failed.event_id for c in copies)
    async with TopicReader(
        notifier.settings,
        notifier.settings.dead_letter_topic(notifier.settings.auth_events_topic),
    ) as dead_letters:
        await dead_letters.wait_for(lambda r: True, timeout=1)
        assert dead_letters.records == []


async def test_failures_beyond_the_bound_are_dead_lettered_and_the_partition_moves_on(
    kafka_settings: KafkaSettings, database_url: str, sealer: TokenSealer
) -> None:
    async with running_notifier(
        kafka_settings, database_url, sealer, NOTIFIER_MAX_ATTEMPTS=3
    ) as notifier:
        email, user_id = address(), uuid4()
        notifier.mailbox.refuse(email, "451 4.3.0 Try again later")
        event = notifier.events.registered(email, "tok-bound", user_id)
        after = notifier.events.plain(EventType.PASSWORD_CHANGED, address(), user_id)

        await notifier.publish(event)
        await notifier.publish(after)

        await mail_for(notifier, after)
        settings = notifier.settings
        dead_letter_topic = settings.dead_letter_topic(settings.auth_events_topic)
        async with TopicReader(settings, dead_letter_topic) as dead_letters:
            [record] = await dead_letters.wait_for(lambda r: len(r) >= 1)
        engine = database.create_engine(settings.database_url)
        delivery = await DeliveryLedger(engine).find(event.event_id)
        await engine.dispose()

    assert notifier.mailbox.rcpt_attempts[email] == 3
    assert header_value(record.headers, "event_id") == str(event.event_id)
    assert "451" in (header_value(record.headers, "dlq.error") or "")
    assert delivery is not None
    # Left deferred, not failed: replaying the dead letter sends the mail.
    assert (delivery.state, delivery.attempts) == (DeliveryState.DEFERRED, 3)


async def test_a_row_a_crash_left_sending_is_sent_again_once_its_lease_ran_out(
    notifier: RunningNotifier, ledger: DeliveryLedger, sealer: TokenSealer
) -> None:
    email, user_id = address(), uuid4()
    event = notifier.events.registered(email, "tok-crash", user_id)
    notice = notice_for(event, sealer)
    assert notice is not None
    lease = timedelta(seconds=notifier.settings.sending_lease_seconds)
    crashed_at = datetime.now(UTC) - lease - timedelta(seconds=1)
    await ledger.claim(notice, None, crashed_at)  # SMTP reply never recorded

    await notifier.publish(event)

    [mail] = await notifier.mails_to(email)
    assert mail.token_of("/verify") == "tok-crash"

    async def recorded_as_sent() -> bool:
        delivery = await ledger.find(event.event_id)
        return delivery is not None and delivery.state is DeliveryState.SENT

    await eventually(recorded_as_sent, what="the ledger says sent")
    delivery = await ledger.find(event.event_id)
    assert delivery is not None and delivery.attempts == 2
