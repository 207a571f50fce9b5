"""The event contract of CONTRACT.md: envelope, catalogue, wire encoding."""

from shared.events.catalogue import DATA_MODELS, EventType, FailureReason
from shared.events.envelope import (
    SCHEMA_VERSION,
    EnvelopeError,
    EventEnvelope,
    decode_envelope,
    encode_envelope,
    partition_key,
)

__all__ = [
    "DATA_MODELS",
    "SCHEMA_VERSION",
    "EnvelopeError",
    "EventEnvelope",
    "EventType",
    "FailureReason",
    "decode_envelope",
    "encode_envelope",
    "partition_key",
]
