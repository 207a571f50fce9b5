"""What the local stack runs: one table of processes, ports and environment.

Stages start in order; the processes of one stage start together and the next
stage waits until each is ready. They stop in the reverse order.
"""

import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from devstack.broker import broker_command, broker_environment
from devstack.settings import StackSettings, inherited_environment

SERVICES = ("identity", "notifier", "audit")
COLOURS = {"identity": "cyan", "notifier": "green", "audit": "blue"}


@dataclass(frozen=True)
class Exits:
    """A one-shot step: ready once it has exited with status 0."""


@dataclass(frozen=True)
class Listens:
    """Ready once ``host:port`` accepts a TCP connection."""

    host: str
    port: int


@dataclass(frozen=True)
class AnswersHealth:
    """Ready once ``GET url`` answers 200."""

    url: str


Readiness = Exits | Listens | AnswersHealth


@dataclass(frozen=True)
class PortClaim:
    """A port a process binds; ``variable`` is where the user can change it."""

    port: int
    role: str
    variable: str


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str]
    ready: Readiness
    colour: str
    ports: tuple[PortClaim, ...] = field(default=())

    @property
    def one_shot(self) -> bool:
        return isinstance(self.ready, Exits)


Stage = tuple[ProcessSpec, ...]


def stack_stages(settings: StackSettings) -> list[Stage]:
    """Broker and mailbox, then the migrations, then the services."""
    env = service_environment(settings)
    infrastructure = [_mailbox(settings, env)]
    if settings.embedded_broker:
        infrastructure.insert(0, _broker(settings))
    migrations = tuple(
        ProcessSpec(
            f"{name} migrate",
            (_script(name), "migrate"),
            env | {"OTEL_SERVICE_NAME": name},
            Exits(),
            COLOURS[name],
        )
        for name in SERVICES
    )
    services = tuple(_service(name, settings, env) for name in SERVICES)
    return [tuple(infrastructure), migrations, services]


def service_environment(settings: StackSettings) -> dict[str, str]:
    """The launcher's environment plus everything the services read."""
    data = settings.data_path
    env = inherited_environment() | {
        "PYTHONUNBUFFERED": "1",
        # Plain tracebacks: typer's boxed ones do not survive line prefixes.
        "_TYPER_STANDARD_TRACEBACK": "1",
        "HOST": settings.host,
        "DATA_DIR": str(data),
        "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
        "TOKEN_SEALING_KEY_FILE": str(settings.sealing_key_file),
    }
    if settings.embedded_broker:
        env["KAFKA_ENABLE_IDEMPOTENCE"] = "false"
    for name in SERVICES:
        prefix = name.upper()
        env[f"{prefix}_DATABASE_URL"] = settings.database_url(name)
        env[f"{prefix}_PORT"] = str(getattr(settings, f"{name}_port"))
    return env


def _broker(settings: StackSettings) -> ProcessSpec:
    return ProcessSpec(
        "broker",
        tuple(broker_command(settings.host, settings.broker_port)),
        broker_environment(),
        Listens(settings.host, settings.broker_port),
        "magenta",
        (PortClaim(settings.broker_port, "embedded broker", "BROKER_PORT"),),
    )


def _mailbox(settings: StackSettings, env: dict[str, str]) -> ProcessSpec:
    smtp, http = settings.mailbox_smtp_port, settings.mailbox_http_port
    return ProcessSpec(
        "mailbox",
        (
            sys.executable,
            "-m",
            "devstack",
            "mailbox",
            "--host",
            settings.host,
            "--smtp-port",
            str(smtp),
            "--http-port",
            str(http),
        ),
        env,
        AnswersHealth(f"{settings.mailbox_url}/healthz"),
        "yellow",
        (
            PortClaim(smtp, "dev mailbox SMTP", "MAILBOX_SMTP_PORT"),
            PortClaim(http, "dev mailbox HTTP", "MAILBOX_HTTP_PORT"),
        ),
    )


def _service(name: str, settings: StackSettings, env: dict[str, str]) -> ProcessSpec:
    port: int = getattr(settings, f"{name}_port")
    extra = {"OTEL_SERVICE_NAME": name}
    if name == "notifier":
        extra |= {
            "SMTP_HOST": settings.host,
            "SMTP_PORT": str(settings.mailbox_smtp_port),
            "PUBLIC_URL": settings.identity_public_url,
        }
    return ProcessSpec(
        name,
        (_script(name), "serve"),
        env | extra,
        AnswersHealth(f"{settings.http_url(port)}/healthz"),
        COLOURS[name],
        (PortClaim(port, f"{name} HTTP", f"{name.upper()}_PORT"),),
    )


def _script(name: str) -> str:
    """The console script installed beside this interpreter, else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name) or name
