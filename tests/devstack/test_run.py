"""``devstack run`` as a user runs it: real processes, real ports, real signals."""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import httpx
import pytest

from devstack.broker import free_port
from tests.devstack.processes import descendants, is_alive, with_environment

DEVSTACK = str(Path(sys.executable).parent / "devstack")
UP = "authtrail is up"


@dataclass
class Launch:
    process: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str]

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.env[f'{service.upper()}_PORT']}"

    def wait_until_up(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while UP not in self.output:
            if self.process.poll() is not None:
                pytest.fail(f"devstack run exited early:\n{self.output[-4000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"devstack run not up in time:\n{self.output[-4000:]}")
            time.sleep(0.2)

    def exit_code(self, timeout: float = 90) -> int:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"devstack run did not exit:\n{self.output[-4000:]}")

    def leftovers(self) -> list[int]:
        return with_environment("DATA_DIR", self.env["DATA_DIR"])


class LaunchFactory(Protocol):
    def __call__(self, **overrides: str) -> Launch: ...


@pytest.fixture
def launch(tmp_path: Path) -> Iterator[LaunchFactory]:
    """``devstack run`` on free ports with its own data folder, left clean."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KAFKA_", "OTEL_")) and not key.endswith("_PORT")
    }
    env |= {
        "DATA_DIR": str(tmp_path / "data"),
        "STARTUP_TIMEOUT": "150",
        "BROKER_PORT": str(free_port()),
        "IDENTITY_PORT": str(free_port()),
        "NOTIFIER_PORT": str(free_port()),
        "AUDIT_PORT": str(free_port()),
        "MAILBOX_SMTP_PORT": str(free_port()),
        "MAILBOX_HTTP_PORT": str(free_port()),
        "OTEL_SDK_DISABLED": "true",
    }
    started: list[Launch] = []

    def start(**overrides: str) -> Launch:
        log = tmp_path / "run.log"
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [DEVSTACK, "run"],
                env=env | overrides,
                stdout=sink,
                stderr=subprocess.STDOUT,
                cwd=tmp_path,
            )
        started.append(Launch(process, log, env | overrides))
        return started[-1]

    yield start
    for launched in started:
        launched.process.kill()
        launched.process.wait()
        for pid in launched.leftovers():
            os.kill(pid, signal.SIGKILL)


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def test_run_brings_every_process_up_and_sigterm_leaves_none_behind(
    launch: LaunchFactory,
) -> None:
    run = launch()
    run.wait_until_up()
    children = descendants(run.process.pid)

    for service in ("identity", "notifier", "audit", "mailbox_http"):
        assert healthy(run.url(service)), service
    mailbox = httpx.get(f"{run.url('mailbox_http')}/api/messages", timeout=5)
    assert mailbox.status_code == 200
    with socket.create_connection(("127.0.0.1", int(run.env["BROKER_PORT"]))):
        pass
    assert f"{run.url('identity')}/docs" in run.output
    assert f"{run.url('audit')}/dashboard" in run.output
    assert set(run.leftovers()) == {run.process.pid, *children}
    assert len(children) >= 5  # broker, mailbox and three services

    run.process.send_signal(signal.SIGTERM)

    assert run.exit_code() == 0
    assert [pid for pid in children if is_alive(pid)] == []
    assert run.leftovers() == []
    files = {path.name for path in Path(run.env["DATA_DIR"]).iterdir()}
    assert {"identity.db", "notifier.db", "audit.db"} <= files


def test_a_busy_port_is_named_and_nothing_starts(launch: LaunchFactory) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = holder.getsockname()[1]
        run = launch(AUDIT_PORT=str(busy))

        assert run.exit_code(timeout=30) == 1

    assert f"port {busy} (audit HTTP) is already in use" in run.output
    assert "AUDIT_PORT=<port>" in run.output
    assert "is ready" not in run.output
    assert run.leftovers() == []


def test_a_child_failing_at_start_up_is_named_and_the_others_stop(
    launch: LaunchFactory, kafka_bootstrap: str
) -> None:
    run = launch(
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        IDENTITY_DATABASE_URL="nosuchdialect://nowhere/identity",
    )

    assert run.exit_code() == 1
    assert "identity migrate exited with status 1" in run.output
    assert "last output of identity migrate" in run.output
    assert "nosuchdialect" in run.output
    assert "mailbox is ready" in run.output
    assert "broker is ready" not in run.output  # KAFKA_BOOTSTRAP_SERVERS was given
    assert run.leftovers() == []
