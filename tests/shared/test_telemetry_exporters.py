"""Where the three signals go: the console without an endpoint, OTLP with one."""

import os
import subprocess
import sys
import time

from tests.otlp_receiver import OtlpReceiver

SCRIPT = """
import logging
from opentelemetry import metrics, trace
from shared.telemetry import setup_telemetry

telemetry = setup_telemetry("probe", "9.9.9")
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


def test_without_an_endpoint_the_console_gets_traces_metrics_and_logs() -> None:
    result = run_probe()
    assert '"name": "probe.work"' in result.stdout
    assert '"name": "probe.count"' in result.stdout
    assert '"body": "probe.logged"' in result.stdout
    assert "traces=console" in result.stderr


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
    assert f"traces='OTLP grpc {receiver.endpoint}'" in result.stderr
    spans = receiver.spans()
    assert [(s.service, s.name) for s in spans] == [("probe", "probe.work")]
    names = {name for _, name, _ in receiver.metric_attributes()}
    assert "probe.count" in names
    logs = [r for _, r in receiver.log_records() if r["body"] == "probe.logged"]
    assert len(logs) == 1
    assert logs[0]["trace_id"] == spans[0].trace_id
    assert logs[0]["attributes"]["answer"] == 42
