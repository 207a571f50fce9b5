"""One audit row: an event envelope as stored, with its trace ids."""

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast
from uuid import UUID

from audit.domain.trace_context import TraceIds
from shared.events import EventEnvelope, EventType

# Secret material that must never reach an audit row: the sealed tokens are
# for the notifier alone, even though they are encrypted.
SECRET_DATA_FIELDS = frozenset({"sealed_token"})

LOGIN_TYPES = (EventType.LOGIN_SUCCESS, EventType.LOGIN_FAILED)

T = TypeVar("T")


@dataclass(frozen=True)
class AuditEvent:
    event_id: UUID
    event_type: str
    schema_version: int
    occurred_at: datetime
    user_id: UUID | None
    email: str | None
    success: bool
    reason: str | None
    ip: str | None
    user_agent: str | None
    duration_ms: float | None
    stream_version: int | None
    data: dict[str, Any]
    trace_id: str | None
    span_id: str | None

    @classmethod
    def from_envelope(
        cls, envelope: EventEnvelope, trace: TraceIds | None
    ) -> "AuditEvent":
        data = envelope.data.model_dump(mode="json", exclude_none=True)
        return cls(
            event_id=envelope.event_id,
            event_type=envelope.event_type.value,
            schema_version=envelope.schema_version,
            occurred_at=envelope.occurred_at,
            user_id=envelope.user_id,
            email=storable(envelope.email),
            success=envelope.success,
            reason=storable(envelope.reason),
            ip=storable(envelope.ip),
            user_agent=storable(envelope.user_agent),
            duration_ms=envelope.duration_ms,
            stream_version=envelope.stream_version,
            data={
                k: storable(v) for k, v in data.items() if k not in SECRET_DATA_FIELDS
            },
            trace_id=trace.trace_id if trace else None,
            span_id=trace.span_id if trace else None,
        )

    @cached_property
    def email_key(self) -> str | None:
        """The address as every lookup compares it: trimmed and lower-cased."""
        return normalise_email(self.email)

    @property
    def is_login(self) -> bool:
        return self.event_type in LOGIN_TYPES


def storable(value: T) -> T:
    """``value`` with each NUL character replaced by U+FFFD.

    PostgreSQL text cannot hold NUL; an event carrying one (say in a forged
    User-Agent) is kept with a visible mark instead of failing its batch and
    being dead-lettered, which would hide it from the audit.
    """
    if isinstance(value, str):
        return cast(T, value.replace("\x00", "\ufffd"))
    if isinstance(value, dict):
        return cast(T, {storable(k): storable(v) for k, v in value.items()})
    if isinstance(value, list):
        return cast(T, [storable(item) for item in value])
    return value


def normalise_email(email: str | None) -> str | None:
    if email is None:
        return None
    return email.strip().lower() or None
