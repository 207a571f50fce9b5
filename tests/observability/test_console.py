"""What a real service prints: one line per span, metric and log record
without an OTLP endpoint; nothing but its start-up banner with one."""

import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.broker import free_port
from tests.observability.conftest import Observed
from tests.observability.observed_stack import SERVICES

AUDIT = str(Path(sys.executable).parent / "audit")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+ ")


class Running:
    def __init__(self, process: subprocess.Popen[bytes], folder: Path, port: int):
        self.process = process
        self.folder = folder
        self.url = f"http://127.0.0.1:{port}"

    @property
    def stdout(self) -> str:
        return (self.folder / "stdout").read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return (self.folder / "stderr").read_text(errors="replace")

    def wait_for(self, *needles: str, within: float = 60) -> None:
        deadline = time.monotonic() + within
        while not all(n in self.stdout for n in needles):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no {needles} in:\n{self.stdout[-3000:]}{self.stderr}")
            time.sleep(0.2)

    def get(self, path: str, within: float = 60) -> httpx.Response:
        deadline = time.monotonic() + within
        while True:
            try:
                return httpx.get(f"{self.url}{path}", timeout=5, trust_env=False)
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{path} never answered:\n{self.stderr[-3000:]}")
                time.sleep(0.2)


@pytest.fixture
def audit_on_the_console(tmp_path: Path, kafka_bootstrap: str) -> Iterator[Running]:
    """``audit serve`` with no OTLP endpoint, stdout and stderr kept apart."""
    suffix = uuid.uuid4().hex[:8]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    env |= {
        "HOST": "127.0.0.1",
        "AUDIT_PORT": str(port),
        "AUDIT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        "AUDIT_CONSUMER_GROUP": f"console-{suffix}",
        "DATA_DIR": str(tmp_path),
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_ENABLE_IDEMPOTENCE": "false",
        "AUTH_EVENTS_TOPIC": f"auth.events.{suffix}",
        "NOTIFICATION_EVENTS_TOPIC": f"notification.events.{suffix}",
        "ALERTS_TOPIC": f"audit.alerts.{suffix}",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
    }
    with (
        (tmp_path / "stdout").open("wb") as out,
        (tmp_path / "stderr").open("wb") as err,
    ):
        process = subprocess.Popen(
            [AUDIT, "serve"], env=env, stdout=out, stderr=err, cwd=tmp_path
        )
    try:
        yield Running(process, tmp_path, port)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def test_without_an_endpoint_a_service_prints_its_spans_metrics_and_logs_once(
    audit_on_the_console: Running,
) -> None:
    audit = audit_on_the_console
    assert audit.get("/healthz").status_code == 200
    assert audit.get("/v1/events").status_code == 200
    for _ in range(3):
        audit.get("/readyz")
    audit.wait_for(" span 'GET /v1/events' ", " metric http.server.duration ")
    audit.process.send_signal(signal.SIGTERM)
    assert audit.process.wait(timeout=60) in (0, -signal.SIGTERM)
    out = audit.stdout.splitlines()
    finished = next(
        i for i, line in enumerate(out) if "Finished server process" in line
    )

    assert [line for line in out if not LINE.match(line)] == []
    records = [line for line in out if " span " not in line and " metric " not in line]
    assert any(
        " INFO uvicorn.error 'Application startup complete.'" in r for r in records
    )
    assert len(set(records)) == len(records)
    assert any(" metric db.client.connection.count " in line for line in out)
    assert [line for line in out if "healthz" in line or "readyz" in line] == []
    # Flushed on the way out: the shutdown's own spans and a last collection.
    assert any(" metric " in line for line in out[finished:])
    (banner,) = audit.stderr.splitlines()
    assert "traces=console metrics=console logs=console" in banner


def test_with_an_endpoint_the_services_print_nothing_but_their_banner(
    observed: Observed,
) -> None:
    endpoint = observed.receiver.endpoint
    for service in SERVICES:
        (banner,) = observed.stack.console_of(service)
        assert f"telemetry.started service={service} " in banner
        for signal_name in ("traces", "metrics", "logs"):
            assert f"{signal_name}='OTLP grpc {endpoint}'" in banner
