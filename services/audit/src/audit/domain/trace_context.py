"""The W3C ``traceparent`` header, read to link audit rows to their trace."""

import re
from dataclasses import dataclass

_TRACEPARENT = re.compile(
    r"^(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-"
    r"(?P<span_id>[0-9a-f]{16})-(?P<flags>[0-9a-f]{2})(?:-.*)?$"
)
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True)
class TraceIds:
    trace_id: str
    span_id: str


def parse_traceparent(value: str | None) -> TraceIds | None:
    """The trace and parent span ids of a valid ``traceparent``, else None.

    Follows the W3C Trace Context rules: version ``ff`` and all-zero ids are
    invalid; a future version may carry more fields after the flags.
    """
    if not value:
        return None
    match = _TRACEPARENT.match(value.strip().lower())
    if match is None or match["version"] == "ff":
        return None
    if match["version"] == "00" and len(value.strip()) != 55:
        return None
    if match["trace_id"] == _ZERO_TRACE or match["span_id"] == _ZERO_SPAN:
        return None
    return TraceIds(match["trace_id"], match["span_id"])
