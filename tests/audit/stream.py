"""Crafted auth and notification events, the way identity and notifier send them."""

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka.structs import ConsumerRecord

from shared.events import EventEnvelope, EventType, encode_envelope

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
MOBILE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def event(
    event_type: EventType,
    at: datetime,
    *,
    success: bool,
    user_id: uuid.UUID | None = None,
    email: str | None = None,
    reason: str | None = None,
    ip: str | None = "198.51.100.7",
    user_agent: str | None = CHROME_WINDOWS,
    duration_ms: float | None = None,
    data: dict[str, Any] | None = None,
) -> EventEnvelope:
    return EventEnvelope.model_validate(
        {
            "event_type": event_type,
            "occurred_at": at,
            "user_id": user_id,
            "email": email,
            "success": success,
            "reason": reason,
            "ip": ip,
            "user_agent": user_agent,
            "duration_ms": duration_ms,
            "data": data or {},
        }
    )


@dataclass
class Account:
    """One address, and the events identity would publish about it."""

    email: str
    user_id: uuid.UUID = field(default_factory=uuid.uuid4)
    ip: str = "198.51.100.7"
    user_agent: str = CHROME_WINDOWS

    def _event(
        self, kind: EventType, at: datetime, success: bool, **extra: Any
    ) -> EventEnvelope:
        values: dict[str, Any] = {
            "user_id": self.user_id,
            "email": self.email,
            "ip": self.ip,
            "user_agent": self.user_agent,
            **extra,
        }
        return event(kind, at, success=success, **values)

    def registered(self, at: datetime) -> EventEnvelope:
        return self._event(
            EventType.REGISTRATION_SUCCESS,
            at,
            True,
            duration_ms=90.0,
            data={
                "sealed_token": "gAAAAABsealed-verification-token",
                "token_expires_at": (at + timedelta(hours=24)).isoformat(),
            },
        )

    def verified(self, at: datetime) -> EventEnvelope:
        return self._event(EventType.EMAIL_VERIFIED, at, True)

    def logged_in(self, at: datetime, duration_ms: float = 180.0) -> EventEnvelope:
        return self._event(
            EventType.LOGIN_SUCCESS,
            at,
            True,
            duration_ms=duration_ms,
            data={"token_id": uuid.uuid4().hex, "rehashed": False},
        )

    def login_failed(
        self,
        at: datetime,
        reason: str = "invalid_password",
        attempts: int | None = None,
        duration_ms: float = 200.0,
        registered: bool = True,
    ) -> EventEnvelope:
        return self._event(
            EventType.LOGIN_FAILED,
            at,
            False,
            user_id=self.user_id if registered else None,
            reason=reason,
            duration_ms=duration_ms,
            data={"failed_attempts": attempts},
        )

    def locked(
        self, at: datetime, attempts: int = 5, registered: bool = True
    ) -> EventEnvelope:
        return self._event(
            EventType.ACCOUNT_LOCKED,
            at,
            False,
            user_id=self.user_id if registered else None,
            reason="account_locked",
            data={
                "locked_until": (at + timedelta(minutes=30)).isoformat(),
                "failed_attempts": attempts,
            },
        )

    def unlocked(self, at: datetime, cause: str = "password_reset") -> EventEnvelope:
        return self._event(EventType.ACCOUNT_UNLOCKED, at, True, data={"cause": cause})

    def reset_requested(self, at: datetime) -> EventEnvelope:
        return self._event(
            EventType.PASSWORD_RESET_REQUESTED,
            at,
            True,
            data={
                "sealed_token": "gAAAAABsealed-reset-token",
                "token_expires_at": (at + timedelta(hours=1)).isoformat(),
            },
        )

    def reset_done(self, at: datetime) -> EventEnvelope:
        return self._event(EventType.PASSWORD_RESET_SUCCESS, at, True)

    def email_sent(self, at: datetime, template: str = "verification") -> EventEnvelope:
        return self._event(
            EventType.EMAIL_SENT,
            at,
            True,
            ip=None,
            user_agent=None,
            data={
                "template": template,
                "recipient": self.email,
                "attempt": 1,
                "smtp_code": 250,
                "cause_event_id": str(uuid.uuid4()),
            },
        )

    def email_failed(
        self,
        at: datetime,
        template: str = "verification",
        error: str = "550 no such user",
    ) -> EventEnvelope:
        return self._event(
            EventType.EMAIL_FAILED,
            at,
            False,
            ip=None,
            user_agent=None,
            reason="smtp_permanent",
            data={
                "template": template,
                "recipient": self.email,
                "attempt": 1,
                "smtp_code": 550,
                "cause_event_id": str(uuid.uuid4()),
                "error": error,
            },
        )


def reset_token_failed(at: datetime, ip: str) -> EventEnvelope:
    """A reset with a bad token: identity knows no user for it."""
    return event(
        EventType.PASSWORD_RESET_FAILED,
        at,
        success=False,
        reason="invalid_or_expired_token",
        ip=ip,
    )


def headers_of(envelope: EventEnvelope, trace: str | None) -> list[tuple[str, bytes]]:
    headers = [
        ("event_type", envelope.event_type.value.encode()),
        ("event_id", str(envelope.event_id).encode()),
        ("content-type", b"application/json"),
    ]
    if trace is not None:
        headers.insert(0, ("traceparent", trace.encode()))
    return headers


def record_of(
    envelope: EventEnvelope,
    trace: str | None = None,
    *,
    topic: str = "auth.events",
    offset: int = 0,
    value: bytes | None = None,
) -> ConsumerRecord:
    """The record the consumer would hand over for this envelope."""
    raw = encode_envelope(envelope) if value is None else value
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=envelope.key,
        value=raw,
        checksum=None,
        serialized_key_size=len(envelope.key),
        serialized_value_size=len(raw),
        headers=headers_of(envelope, trace),
    )
