"""The one-line console renderings say what a developer scans for."""

import logging

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import (
    InMemoryLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)
from opentelemetry.trace import Status, StatusCode

from shared.console_lines import KeyValueFormatter, log_line, metrics_lines, span_line


def test_a_failed_child_span_names_its_parent_and_the_failure() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    with (
        tracer.start_as_current_span("POST /v1/auth/token") as parent,
        tracer.start_as_current_span("smtp send") as child,
    ):
        child.set_status(Status(StatusCode.ERROR, "SMTPServerDisconnected"))
    child_span, parent_span = exporter.get_finished_spans()

    line = span_line(child_span)
    context = parent.get_span_context()
    assert line.endswith("status=ERROR:SMTPServerDisconnected\n")
    assert " span 'smtp send' " in line
    assert f" trace={context.trace_id:032x} " in line
    assert f" parent={context.span_id:016x}" in line
    assert span_line(parent_span).endswith(" parent=-\n")
    assert line.count("\n") == 1


def test_a_log_record_is_its_event_and_fields_on_one_line() -> None:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    provider.get_logger("identity.application.recording").emit(
        body="auth.login_failed",
        severity_text="WARN",
        attributes={"reason": "invalid_password", "user_agent": "curl/8.5 (x)"},
    )
    (record,) = exporter.get_finished_logs()

    line = log_line(record)
    assert " WARN identity.application.recording auth.login_failed " in line
    assert "reason=invalid_password user_agent='curl/8.5 (x)'" in line
    assert line.count("\n") == 1


def test_a_metric_is_one_summary_line_over_its_series() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    events = meter.create_counter("auth.events", unit="{event}")
    events.add(2, {"outcome": "success"})
    events.add(3, {"outcome": "failure"})
    meter.create_histogram("auth.login.duration", unit="s").record(0.25)
    data = reader.get_metrics_data()
    assert data is not None

    lines = metrics_lines(data).splitlines()
    assert any(
        " metric auth.events counter total=5 series=2 unit={event}" in x for x in lines
    )
    assert any(
        " metric auth.login.duration histogram count=1 mean=0.25 max=0.25" in x
        for x in lines
    )


def test_the_stderr_format_shows_trace_ids_instead_of_the_instrumentations_fields() -> (
    None
):
    record = logging.LogRecord("audit.app", logging.ERROR, "", 0, "audit.x", (), None)
    record.__dict__.update(
        {"rule": "slow logins", "otelTraceID": "ab" * 16, "otelSpanID": "cd" * 8}
    )

    line = KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s").format(
        record
    )
    assert line.endswith(
        f" ERROR audit.app audit.x rule='slow logins' trace_id={'ab' * 16} "
        f"span_id={'cd' * 8}"
    )
    assert "otel" not in line
