"""Where the three signals go: the console without an endpoint, OTLP with one."""

import os
import subprocess
import sys
import time

from tests.otlp_receiver import OtlpReceiver

SCRIPT = """
import logging
from opentelemetry import metrics, trace
from shared.instrumentation import instrument_process
from shared.telemetry import setup_telemetry

telemetry = setup_telemetry("probe", "9.9.9")
instrument_process()
with trace.get_tracer("probe").start_as_current_span("probe.work"):
    logging.getLogger("probe").warning("probe.logged", extra={"answer": 42})
metrics.get_meter("probe").create_counter("probe.count").add(3)
telemetry.shutdown()
"""


def run_probe(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def test_without_an_endpoint_the_console_gets_one_line_per_span_metric_and_log() -> (
    None
):
    result = run_probe()

    (span,) = lines_with(result.stdout, " span probe.work ")
    (metric,) = lines_with(result.stdout, " metric probe.count ")
    (log,) = lines_with(result.stdout + result.stderr, "probe.logged")
    trace_id = span.split(" trace=")[1].split()[0]
    assert "counter total=3" in metric
    assert " WARN probe probe.logged answer=42 " in log
    assert f"trace_id={trace_id}" in log
    assert "otelTraceID" not in log
    assert "{" not in result.stdout
    (banner,) = result.stderr.splitlines()
    assert "telemetry.started service=probe version=9.9.9" in banner
    assert "traces=console metrics=console logs=console" in banner


def test_the_standard_sampler_variables_are_honoured() -> None:
    result = run_probe(OTEL_TRACES_SAMPLER="always_off")

    assert lines_with(result.stdout, " span ") == []
    assert lines_with(result.stdout, " metric probe.count ") != []
    assert len(lines_with(result.stdout, "probe.logged")) == 1


def test_with_an_endpoint_everything_goes_over_otlp_and_nothing_to_the_console() -> (
    None
):
    receiver = OtlpReceiver().start()
    try:
        result = run_probe(
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_INSECURE="true",
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            receiver.spans() and receiver.metrics and receiver.logs
        ):
            time.sleep(0.1)
    finally:
        receiver.stop()

    assert result.stdout == ""
    (banner,) = result.stderr.splitlines()
    assert f"traces='OTLP grpc {receiver.endpoint}'" in banner
    assert f"logs='OTLP grpc {receiver.endpoint}'" in banner
    spans = receiver.spans()
    assert [(s.service, s.name) for s in spans] == [("probe", "probe.work")]
    names = {name for _, name, _ in receiver.metric_attributes()}
    assert "probe.count" in names
    logs = [r for _, r in receiver.log_records() if r["body"] == "probe.logged"]
    assert len(logs) == 1
    assert logs[0]["trace_id"] == spans[0].trace_id
    assert logs[0]["attributes"] == {"answer": 42}


def test_one_signal_can_go_over_otlp_while_the_others_stay_on_the_console() -> None:
    receiver = OtlpReceiver().start()
    try:
        result = run_probe(
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_INSECURE="true",
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not receiver.spans():
            time.sleep(0.1)
    finally:
        receiver.stop()

    assert [s.name for s in receiver.spans()] == ["probe.work"]
    assert receiver.metrics == [] and receiver.logs == []
    assert lines_with(result.stdout, " span ") == []
    assert len(lines_with(result.stdout, " metric probe.count ")) == 1
    assert len(lines_with(result.stdout, "probe.logged")) == 1
