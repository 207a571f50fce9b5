"""One line per span, metric and log record, for a human at a terminal.

The SDK's console exporters print every item as indented JSON, which drowns
``make run`` in braces. These renderings keep what a developer scans for: the
name, how long it took, the outcome and the trace id to look up. The key=value
form is the same for log records from the OpenTelemetry pipeline and for the
plain stderr handler used when the SDK is disabled.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from opentelemetry.sdk._logs import ReadableLogRecord
from opentelemetry.sdk.metrics.export import (
    Gauge,
    Histogram,
    Metric,
    MetricsData,
    Sum,
)
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

# Added to records by the logging instrumentation; shown as trace_id/span_id.
CORRELATION_FIELDS = (
    "otelTraceID",
    "otelSpanID",
    "otelTraceSampled",
    "otelServiceName",
)
_NO_TRACE = "0"


def render_value(value: Any) -> str:
    text = str(value)
    return repr(text) if (not text or any(c.isspace() for c in text)) else text


def fields(items: Iterable[tuple[str, Any]]) -> str:
    return " ".join(f"{key}={render_value(value)}" for key, value in items)


def _timestamp(nanos: int | None) -> str:
    moment = datetime.fromtimestamp((nanos or 0) / 1e9, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def span_line(span: ReadableSpan) -> str:
    """``time span <name> <ms> trace=... span=... parent=... [status=ERROR:...]``."""
    context = span.get_span_context()
    parent = span.parent
    duration_ms = ((span.end_time or 0) - (span.start_time or 0)) / 1e6
    parts = [
        _timestamp(span.start_time),
        "span",
        render_value(span.name),
        f"{duration_ms:.1f}ms",
        f"trace={context.trace_id:032x}" if context else "",
        f"span={context.span_id:016x}" if context else "",
        f"parent={parent.span_id:016x}" if parent else "parent=-",
    ]
    if span.status.status_code is StatusCode.ERROR:
        reason = span.status.description or "error"
        parts.append(f"status=ERROR:{render_value(reason)}")
    return " ".join(p for p in parts if p) + "\n"


def log_line(record: ReadableLogRecord) -> str:
    """``time LEVEL logger event key=value ... trace_id=... span_id=...``."""
    log = record.log_record
    scope = record.instrumentation_scope.name if record.instrumentation_scope else ""
    attributes: Mapping[str, Any] = log.attributes or {}
    parts = [
        _timestamp(log.timestamp or log.observed_timestamp),
        log.severity_text or "-",
        scope or "-",
        render_value(log.body),
        fields((k, v) for k, v in attributes.items() if k not in CORRELATION_FIELDS),
    ]
    if log.trace_id:
        parts.append(f"trace_id={log.trace_id:032x} span_id={log.span_id or 0:016x}")
    return " ".join(p for p in parts if p) + "\n"


def metrics_lines(data: MetricsData) -> str:
    """One line per metric: its kind, unit and a summary over its series."""
    lines = [
        f"{_timestamp(_time_of(metric))} metric {metric.name} {_summary(metric)}\n"
        for resource_metrics in data.resource_metrics
        for scope in resource_metrics.scope_metrics
        for metric in scope.metrics
        if metric.data.data_points
    ]
    return "".join(lines)


def _time_of(metric: Metric) -> int:
    return max(point.time_unix_nano for point in metric.data.data_points)


def _summary(metric: Metric) -> str:
    data = metric.data
    tail = f"series={len(data.data_points)}"
    if metric.unit:
        tail += f" unit={metric.unit}"
    if isinstance(data, Histogram):
        count = sum(p.count for p in data.data_points)
        total = sum(p.sum for p in data.data_points)
        worst = max(p.max for p in data.data_points)
        mean = total / count if count else 0
        return f"histogram count={count} mean={mean:.4g} max={worst:.4g} {tail}"
    if isinstance(data, Sum):
        kind = "counter" if data.is_monotonic else "updowncounter"
        total = sum(p.value for p in data.data_points)
        return f"{kind} total={total:g} {tail}"
    if isinstance(data, Gauge):
        values = [p.value for p in data.data_points]
        return f"gauge min={min(values):g} max={max(values):g} {tail}"
    return f"{type(data).__name__.lower()} {tail}"


class KeyValueFormatter(logging.Formatter):
    """``time LEVEL logger event key=value ... trace_id=... span_id=...``."""

    _skip = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
        "message",
        "asctime",
        "color_message",
        *CORRELATION_FIELDS,
    }

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _timestamp(int(record.created * 1e9))

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extra = fields(
            (k, v) for k, v in record.__dict__.items() if k not in self._skip
        )
        line = f"{base} {extra}".rstrip()
        trace_id = getattr(record, "otelTraceID", _NO_TRACE)
        if trace_id != _NO_TRACE:
            span_id = getattr(record, "otelSpanID", _NO_TRACE)
            line += f" trace_id={trace_id} span_id={span_id}"
        return line
