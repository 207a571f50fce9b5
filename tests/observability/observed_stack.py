"""The whole system as ``make run`` starts it, exporting over OTLP to a receiver.

Built on the devstack ``Stack`` library: every service its own process, on
free ports, with its own data folder and embedded broker. The children's
output goes to a log file, so a test can also see what reached the console.
"""

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
from rich.console import Console

from devstack.settings import StackSettings
from devstack.stack import (
    PortInUse,
    Stack,
    StackOutput,
    settings_on_free_ports,
    stack_stages,
)
from devstack.stack.table import Stage
from tests.otlp_receiver import OtlpReceiver
from tests.polling import eventually

SERVICES = ("identity", "notifier", "audit")


def exporting_to(receiver: OtlpReceiver) -> dict[str, str]:
    """Every signal over OTLP/gRPC to ``receiver``, within a fraction of a second."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_INSECURE": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_SDK_DISABLED": "false",
    }


@dataclass
class ObservedStack:
    stack: Stack
    log: Path

    @property
    def settings(self) -> StackSettings:
        return self.stack.settings

    def console_of(self, process: str) -> list[str]:
        """What ``process`` wrote to stdout and stderr, line by line."""
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            name, bar, text = line.partition(" | ")
            if bar and name.strip() == process:
                lines.append(text)
        return lines


def with_environment(stages: list[Stage], extra: Mapping[str, str]) -> list[Stage]:
    """``extra`` for every service and migration, in place of inherited OTEL_*."""

    def environment(env: Mapping[str, str]) -> dict[str, str]:
        own = {"OTEL_SERVICE_NAME"}  # the stack names each service
        kept = {k: v for k, v in env.items() if not k.startswith("OTEL_") or k in own}
        return kept | dict(extra)

    return [
        tuple(
            spec
            if spec.name in ("broker", "mailbox")
            else replace(spec, env=environment(spec.env))
            for spec in stage
        )
        for stage in stages
    ]


@contextlib.asynccontextmanager
async def observed_stack(
    folder: Path, receiver: OtlpReceiver
) -> AsyncIterator[ObservedStack]:
    """The stack, ready (``/readyz`` of each service), until the block ends;
    ``stack.stop()`` inside the block flushes every service's telemetry."""
    log = folder / "stack.log"
    with log.open("w") as sink:
        output = StackOutput(Console(file=sink, width=1000, highlight=False))
        stack = await _started(folder, receiver, output)
        try:
            await _ready(stack.settings)
            yield ObservedStack(stack, log)
        finally:
            await stack.stop()


async def _started(folder: Path, receiver: OtlpReceiver, output: StackOutput) -> Stack:
    """A started stack; on other ports again when a free port was taken
    between choosing it and binding it (other tests run beside this one)."""
    for attempt in range(3):
        settings = settings_on_free_ports(
            folder / f"data{attempt}", kafka_bootstrap_servers=None
        )
        stages = with_environment(stack_stages(settings), exporting_to(receiver))
        stack = Stack(settings, output, stages)
        try:
            await stack.start()
            return stack
        except PortInUse:
            continue
    raise AssertionError("no free ports for the stack in three attempts")


async def _ready(settings: StackSettings) -> None:
    async with httpx.AsyncClient(timeout=2, trust_env=False) as http:
        for port in (
            settings.identity_port,
            settings.notifier_port,
            settings.audit_port,
        ):
            url = f"{settings.http_url(port)}/readyz"

            async def answers(url: str = url) -> bool:
                try:
                    return (await http.get(url)).status_code == 200
                except httpx.TransportError:
                    return False

            await eventually(answers, 90, url)
