"""The event envelope and its UTF-8 JSON wire form."""

import hashlib
from datetime import UTC, datetime
from typing import Any, Self
from uuid import UUID, uuid4

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.events.catalogue import DATA_MODELS, EventData, EventType

SCHEMA_VERSION = 1
MAX_ENCODED_BYTES = 64 * 1024


class EnvelopeError(ValueError):
    """A message that is not a valid envelope of a known type and version."""


class EventEnvelope(BaseModel):
    """One auth or notification event, as it travels on the topics."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: UUID = Field(default_factory=uuid4)
    event_type: EventType
    schema_version: int = SCHEMA_VERSION
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    user_id: UUID | None = None
    email: str | None = Field(default=None, max_length=320)
    success: bool
    reason: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)
    duration_ms: float | None = Field(default=None, ge=0)
    stream_version: int | None = Field(default=None, ge=0)
    data: SerializeAsAny[EventData] = Field(default_factory=EventData)

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("occurred_at must carry a time zone")
        return value.astimezone(UTC)

    @model_validator(mode="before")
    @classmethod
    def _typed_data(cls, values: Any) -> Any:
        if not isinstance(values, dict):
            return values
        try:
            model = DATA_MODELS[EventType(str(values.get("event_type")))]
        except ValueError:
            return values  # the field validator names the unknown type
        raw = values.get("data") or {}
        if isinstance(raw, model):
            return values
        try:
            return {**values, "data": model.model_validate(raw)}
        except ValidationError as exc:
            raise ValueError(f"data of {model.__name__}: {_describe(exc)}") from exc

    @model_validator(mode="after")
    def _supported_version(self) -> Self:
        if self.schema_version != SCHEMA_VERSION:
            raise ValueError(f"unsupported schema_version {self.schema_version}")
        return self

    @property
    def key(self) -> bytes:
        return partition_key(self.user_id, self.email)


def partition_key(user_id: UUID | None, email: str | None) -> bytes:
    """The Kafka key that keeps every event of one account in order."""
    if user_id is not None:
        return str(user_id).encode()
    digest = hashlib.sha256((email or "").encode()).hexdigest()
    return f"email:{digest}".encode()


def encode_envelope(envelope: EventEnvelope) -> bytes:
    return envelope.model_dump_json().encode()


def decode_envelope(raw: bytes | None) -> EventEnvelope:
    """Parse a message value, or raise :class:`EnvelopeError` saying why."""
    if raw is None:
        raise EnvelopeError("empty message value")
    if len(raw) > MAX_ENCODED_BYTES:
        raise EnvelopeError(f"message of {len(raw)} bytes exceeds {MAX_ENCODED_BYTES}")
    try:
        return EventEnvelope.model_validate_json(raw)
    except ValidationError as exc:
        raise EnvelopeError(f"invalid event envelope: {_describe(exc)}") from exc


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'envelope'}: {err['msg']}"
        for err in exc.errors(include_url=False)
    )
