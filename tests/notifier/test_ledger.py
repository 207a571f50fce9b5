"""The delivery ledger on SQLite and PostgreSQL: claims, outcomes, leases."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from notifier.cli import MIGRATIONS
from notifier.domain.delivery import DeliveryState, Step, next_step
from notifier.domain.notices import Notice, Template
from notifier.errors import DeliveryInFlight
from notifier.ledger import DeliveryLedger
from shared import database
from shared.events import EventType

LEASE = timedelta(minutes=2)


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[DeliveryLedger]:
    await database.upgrade(MIGRATIONS, database_url)
    engine = database.create_engine(database_url)
    yield DeliveryLedger(engine)
    await engine.dispose()


def a_notice() -> Notice:
    return Notice(
        cause_event_id=uuid4(),
        cause_event_type=EventType.REGISTRATION_SUCCESS,
        template=Template.VERIFY_EMAIL,
        recipient="owner@example.org",
        user_id=uuid4(),
        occurred_at=datetime.now(UTC),
    )


async def test_a_new_event_is_claimed_then_recorded_as_sent(
    ledger: DeliveryLedger,
) -> None:
    notice, now = a_notice(), datetime.now(UTC)
    assert next_step(await ledger.find(notice.cause_event_id), now, LEASE) is Step.SEND

    attempt = await ledger.claim(notice, None, now)
    claimed = await ledger.find(notice.cause_event_id)
    await ledger.record(
        notice, attempt, DeliveryState.SENT, smtp_code=250, error=None, now=now
    )
    sent = await ledger.find(notice.cause_event_id)

    assert attempt == 1
    assert claimed is not None and claimed.state is DeliveryState.SENDING
    assert sent is not None
    assert (sent.state, sent.attempts, sent.smtp_code) == (DeliveryState.SENT, 1, 250)
    assert (sent.recipient, sent.template, sent.user_id) == (
        notice.recipient,
        "verify_email",
        notice.user_id,
    )
    assert sent.updated_at == now
    assert next_step(sent, now, LEASE) is Step.DONE


async def test_a_deferred_event_is_claimed_again_with_the_next_attempt(
    ledger: DeliveryLedger,
) -> None:
    notice, now = a_notice(), datetime.now(UTC)
    await ledger.claim(notice, None, now)
    await ledger.record(
        notice, 1, DeliveryState.DEFERRED, smtp_code=451, error="451 later", now=now
    )
    deferred = await ledger.find(notice.cause_event_id)
    assert deferred is not None and next_step(deferred, now, LEASE) is Step.SEND

    assert await ledger.claim(notice, deferred, now) == 2


async def test_two_attempts_racing_for_one_event_let_only_one_send(
    ledger: DeliveryLedger,
) -> None:
    notice, now = a_notice(), datetime.now(UTC)
    await ledger.claim(notice, None, now)
    with pytest.raises(DeliveryInFlight):
        await ledger.claim(notice, None, now)

    await ledger.record(
        notice, 1, DeliveryState.DEFERRED, smtp_code=None, error="timeout", now=now
    )
    seen = await ledger.find(notice.cause_event_id)
    assert seen is not None
    await ledger.claim(notice, seen, now)
    with pytest.raises(DeliveryInFlight):
        await ledger.claim(notice, seen, now)


async def test_a_sending_row_is_in_flight_until_its_lease_runs_out(
    ledger: DeliveryLedger,
) -> None:
    notice, claimed_at = a_notice(), datetime.now(UTC)
    await ledger.claim(notice, None, claimed_at)
    sending = await ledger.find(notice.cause_event_id)
    assert sending is not None

    assert next_step(sending, claimed_at + LEASE / 2, LEASE) is Step.IN_FLIGHT
    assert next_step(sending, claimed_at + LEASE, LEASE) is Step.RESEND_AMBIGUOUS
