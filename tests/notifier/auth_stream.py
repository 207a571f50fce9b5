"""Auth events as identity would publish them: the envelope, its key and
headers, tokens sealed for the notifier."""

import secrets
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer

from shared.events import EventEnvelope, EventType, FailureReason, encode_envelope
from shared.events.catalogue import (
    AccountLocked,
    EventData,
    SealedTokenIssued,
)
from shared.sealing import TokenSealer


def traceparent() -> tuple[str, str]:
    """A fresh W3C traceparent and its trace id."""
    trace_id = secrets.token_hex(16)
    return f"00-{trace_id}-{secrets.token_hex(8)}-01", trace_id


class AuthEvents:
    """Builds the events the notifier reacts to; remembers the raw tokens."""

    def __init__(self, sealer: TokenSealer) -> None:
        self._sealer = sealer

    def _sealed(self, token: str, lifetime: timedelta) -> SealedTokenIssued:
        return SealedTokenIssued(
            sealed_token=self._sealer.seal(token),
            token_expires_at=datetime.now(UTC) + lifetime,
        )

    def registered(
        self, email: str, token: str, user_id: UUID | None = None
    ) -> EventEnvelope:
        return EventEnvelope(
            event_type=EventType.REGISTRATION_SUCCESS,
            user_id=user_id or uuid4(),
            email=email,
            success=True,
            data=self._sealed(token, timedelta(hours=24)),
        )

    def verification_resent(
        self, email: str, token: str, user_id: UUID
    ) -> EventEnvelope:
        return EventEnvelope(
            event_type=EventType.VERIFICATION_RESENT,
            user_id=user_id,
            email=email,
            success=True,
            data=self._sealed(token, timedelta(hours=24)),
        )

    def reset_requested(self, email: str, token: str, user_id: UUID) -> EventEnvelope:
        return EventEnvelope(
            event_type=EventType.PASSWORD_RESET_REQUESTED,
            user_id=user_id,
            email=email,
            success=True,
            data=self._sealed(token, timedelta(hours=1)),
        )

    @staticmethod
    def registration_refused(email: str, user_id: UUID) -> EventEnvelope:
        return EventEnvelope(
            event_type=EventType.REGISTRATION_FAILED,
            user_id=user_id,
            email=email,
            success=False,
            reason=FailureReason.EMAIL_ALREADY_REGISTERED,
        )

    @staticmethod
    def plain(
        event_type: EventType,
        email: str,
        user_id: UUID | None,
        *,
        success: bool = True,
        reason: str | None = None,
        data: EventData | None = None,
    ) -> EventEnvelope:
        return EventEnvelope(
            event_type=event_type,
            user_id=user_id,
            email=email,
            success=success,
            reason=reason,
            data=data.model_dump() if data else {},
        )

    @staticmethod
    def locked(
        email: str, user_id: UUID | None, locked_until: datetime
    ) -> EventEnvelope:
        return EventEnvelope(
            event_type=EventType.ACCOUNT_LOCKED,
            user_id=user_id,
            email=email,
            success=False,
            reason=FailureReason.ACCOUNT_LOCKED,
            data=AccountLocked(locked_until=locked_until, failed_attempts=5),
        )


async def publish(
    producer: AIOKafkaProducer,
    topic: str,
    event: EventEnvelope,
    *,
    trace: str | None = None,
) -> None:
    """Produce ``event`` the way identity's outbox relay does."""
    await publish_raw(
        producer,
        topic,
        encode_envelope(event),
        key=event.key,
        event_type=event.event_type.value,
        event_id=str(event.event_id),
        trace=trace,
    )


async def publish_raw(
    producer: AIOKafkaProducer,
    topic: str,
    value: bytes,
    *,
    key: bytes,
    event_type: str,
    event_id: str,
    trace: str | None = None,
) -> None:
    headers = [
        ("traceparent", (trace or traceparent()[0]).encode()),
        ("event_type", event_type.encode()),
        ("event_id", event_id.encode()),
        ("content-type", b"application/json"),
    ]
    await producer.send_and_wait(topic, value, key=key, headers=headers)
