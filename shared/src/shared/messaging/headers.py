"""Kafka message headers: trace context in and out, typed look-ups."""

from collections.abc import Mapping, Sequence

from opentelemetry import context as otel_context
from opentelemetry import propagate

Headers = list[tuple[str, bytes]]


def trace_headers(carrier: Mapping[str, str]) -> Headers:
    """Headers for a stored W3C carrier (``traceparent``, ``tracestate``)."""
    return [(k, v.encode()) for k, v in carrier.items() if v]


def current_trace_carrier() -> dict[str, str]:
    """The active trace context as a W3C carrier, for storing with a row."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from_headers(
    headers: Sequence[tuple[str, bytes | None]] | None,
) -> otel_context.Context:
    """The trace context a producer put into the message headers."""
    carrier = {k: v.decode("latin-1") for k, v in headers or () if v is not None}
    return propagate.extract(carrier)


def header_value(
    headers: Sequence[tuple[str, bytes | None]] | None, name: str
) -> str | None:
    for key, value in headers or ():
        if key == name and value is not None:
            return value.decode("utf-8", "replace")
    return None
