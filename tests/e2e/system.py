"""The whole system as ``make run`` starts it: every service its own process.

Built on the devstack ``Stack`` library, on free ports with its own data
folder; the children's output goes to a log file that failing tests show.
"""

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import httpx
from rich.console import Console

from devstack.settings import StackSettings
from devstack.stack import Stack, StackOutput, settings_on_free_ports, stack_stages
from devstack.stack.process import ManagedProcess
from devstack.stack.table import Stage
from tests.polling import eventually

SERVICES = ("identity", "notifier", "audit")

QUIET_TELEMETRY = {"OTEL_SDK_DISABLED": "true"}


@dataclass
class RunningSystem:
    stack: Stack
    log: Path

    @property
    def settings(self) -> StackSettings:
        return self.stack.settings

    @property
    def identity_url(self) -> str:
        return self.settings.identity_url

    @property
    def audit_url(self) -> str:
        return self.settings.audit_url

    @property
    def mailbox_url(self) -> str:
        return self.settings.mailbox_url

    @property
    def bootstrap_servers(self) -> str:
        return self.settings.bootstrap_servers

    def process(self, name: str) -> ManagedProcess:
        return next(p for p in self.stack.processes if p.name == name)

    def output_of(self, name: str) -> str:
        prefix = f"{name} "
        return "\n".join(
            line
            for line in self.log.read_text(errors="replace").splitlines()
            if line.startswith(prefix)
        )

    async def kill(self, name: str) -> None:
        """SIGKILL, as the kernel's OOM killer or a power cut would."""
        process = self.process(name)
        assert process.pid is not None
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()

    async def stop(self, name: str) -> None:
        """SIGTERM, as an orderly shutdown would."""
        await self.process(name).terminate(self.settings.stop_grace)

    async def start_again(self, name: str) -> None:
        """Start the exited child with its own command and environment."""
        process = self.process(name)
        await process.spawn()
        if name in SERVICES:
            await self.wait_healthy(name)
        elif name == "broker":
            port = self.settings.broker_port
            await eventually(lambda: _listens(port), 30, f"broker on {port}")

    async def wait_healthy(self, name: str, probe: str = "healthz") -> None:
        url = f"{self.settings.http_url(self._port(name))}/{probe}"
        async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
            await eventually(partial(_answers, http, url), 90, f"{name} /{probe}")

    async def wait_ready(self, *names: str) -> None:
        """Until each answers ``/readyz``: database, broker and consumer up."""
        for name in names:
            await self.wait_healthy(name, "readyz")

    def _port(self, name: str) -> int:
        port: int = getattr(self.settings, f"{name}_port")
        return port


@contextlib.asynccontextmanager
async def running_system(
    data_dir: Path,
    log: Path,
    environment: Mapping[str, str],
    *,
    settings: Mapping[str, object] | None = None,
) -> AsyncIterator[RunningSystem]:
    """The stack with ``environment`` added to every child but the broker,
    up (each service answers ``/healthz``) until the block ends. Consumers
    may still be joining their groups: tests wait for outcomes, not for that.
    ``settings`` override the stack's (database URLs, ...)."""
    stack_settings = settings_on_free_ports(
        data_dir, kafka_bootstrap_servers=None, **(settings or {})
    )
    stages = with_environment(stack_stages(stack_settings), environment)
    with log.open("w") as sink:
        output = StackOutput(Console(file=sink, width=200, highlight=False))
        async with Stack(stack_settings, output, stages) as stack:
            yield RunningSystem(stack, log)


def with_environment(stages: list[Stage], extra: Mapping[str, str]) -> list[Stage]:
    """``extra`` added to the environment of every child but the broker."""
    return [
        tuple(
            spec if spec.name == "broker" else replace(spec, env={**spec.env, **extra})
            for spec in stage
        )
        for stage in stages
    ]


async def _answers(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(url)).status_code == 200
    except httpx.TransportError:
        return False


async def _listens(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
