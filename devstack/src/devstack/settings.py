"""Settings of the local stack and the dev mailbox, read once by the CLI.

The services read their own variables (``IDENTITY_PORT``, ...); the stack reads
the same names so that what it checks, waits for and prints is what the
services bind.
"""

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

JAEGER_UI = "http://127.0.0.1:16686"


class MailboxSettings(BaseSettings):
    """``devstack mailbox``: where it listens and how much it keeps.

    Variables: ``HOST``, ``MAILBOX_SMTP_PORT``, ``MAILBOX_HTTP_PORT`` (0 picks
    a free port), ``MAILBOX_CAPACITY`` (messages kept, newest first),
    ``MAILBOX_MAX_BYTES`` (largest message accepted).
    """

    model_config = SettingsConfigDict(extra="ignore", env_file=".env")

    host: str = "127.0.0.1"
    mailbox_smtp_port: int = Field(default=1025, ge=0, le=65535)
    mailbox_http_port: int = Field(default=8025, ge=0, le=65535)
    mailbox_capacity: int = Field(default=10_000, ge=1)
    mailbox_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    log_level: str = "INFO"


class StackSettings(BaseSettings):
    """``devstack run``: every port, folder and address of the local stack.

    Each field reads the variable of its name in upper case (``IDENTITY_PORT``,
    ``DATA_DIR``, ...). Without ``KAFKA_BOOTSTRAP_SERVERS`` the stack starts the
    embedded broker on ``BROKER_PORT``. Database URLs default to SQLite files in
    ``DATA_DIR``; the sealing key file too.
    """

    model_config = SettingsConfigDict(extra="ignore", env_file=".env")

    host: str = "127.0.0.1"
    data_dir: Path = Path("data")
    kafka_bootstrap_servers: str | None = None
    broker_port: int = Field(default=9092, ge=1, le=65535)
    identity_port: int = Field(default=8001, ge=1, le=65535)
    notifier_port: int = Field(default=8002, ge=1, le=65535)
    audit_port: int = Field(default=8003, ge=1, le=65535)
    mailbox_smtp_port: int = Field(default=1025, ge=1, le=65535)
    mailbox_http_port: int = Field(default=8025, ge=1, le=65535)
    identity_database_url: str | None = None
    notifier_database_url: str | None = None
    audit_database_url: str | None = None
    token_sealing_key_file: Path | None = None
    public_url: str | None = None
    otel_exporter_otlp_endpoint: str | None = None
    otel_sdk_disabled: bool = False
    startup_timeout: float = Field(default=90.0, gt=0)
    stop_grace: float = Field(default=10.0, gt=0)

    @property
    def embedded_broker(self) -> bool:
        return not self.kafka_bootstrap_servers

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap_servers or f"{self.host}:{self.broker_port}"

    @property
    def data_path(self) -> Path:
        return self.data_dir.resolve()

    def database_url(self, service: str) -> str:
        configured: str | None = getattr(self, f"{service}_database_url")
        return configured or f"sqlite+aiosqlite:///{self.data_path / service}.db"

    def http_url(self, port: int) -> str:
        return f"http://{self.host}:{port}"

    @property
    def identity_url(self) -> str:
        return self.http_url(self.identity_port)

    @property
    def identity_public_url(self) -> str:
        """Where links in emails point: ``PUBLIC_URL``, else identity itself."""
        return self.public_url or self.identity_url

    @property
    def notifier_url(self) -> str:
        return self.http_url(self.notifier_port)

    @property
    def audit_url(self) -> str:
        return self.http_url(self.audit_port)

    @property
    def mailbox_url(self) -> str:
        return self.http_url(self.mailbox_http_port)

    @property
    def sealing_key_file(self) -> Path:
        default = self.data_path / "secrets" / "token-sealing.key"
        return (self.token_sealing_key_file or default).resolve()


def inherited_environment() -> dict[str, str]:
    """The launcher's own environment, which every child starts from."""
    return dict(os.environ)
