"""Settings of the identity service, read once at start-up.

Service-specific variables carry the ``IDENTITY_`` prefix (``IDENTITY_PORT``,
``IDENTITY_LOCKOUT_THRESHOLD``, ...); the broker, topics, ``DATA_DIR`` and the
sealing keys are the shared ones. Every file the service generates (signing
key, sealing key) goes under ``DATA_DIR`` unless a path is configured.
"""

import os
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from identity.domain.lockout import LockoutPolicy
from shared.settings import CommonSettings, SealingSettings

Network = IPv4Network | IPv6Network


def _env(name: str) -> AliasChoices:
    """Read from ``IDENTITY_<NAME>``; the field name works in code and tests."""
    return AliasChoices(f"IDENTITY_{name.upper()}", name)


class IdentitySettings(CommonSettings, SealingSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///data/identity.db",
        validation_alias=_env("database_url"),
    )
    port: int = Field(default=8001, validation_alias=_env("port"))
    public_url: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias=_env("public_url"),
        description="where clients and the links in emails reach this service",
    )

    jwt_issuer: str = Field(
        default="authtrail-identity", validation_alias=_env("jwt_issuer")
    )
    jwt_audience: str = Field(
        default="authtrail", validation_alias=_env("jwt_audience")
    )
    jwt_signing_key: SecretStr | None = Field(
        default=None,
        validation_alias=_env("jwt_signing_key"),
        description="PEM of the Ed25519 private key that signs; wins over the file",
    )
    jwt_signing_key_file: Path | None = Field(
        default=None,
        validation_alias=_env("jwt_signing_key_file"),
        description="PEM file of the signing key; default DATA_DIR/secrets/"
        "jwt-signing-key.pem, generated on first start",
    )
    jwt_verification_key_files: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("jwt_verification_key_files"),
        description="comma-separated PEM files of retired keys still accepted",
    )
    access_token_ttl_seconds: int = Field(
        default=86_400, ge=60, validation_alias=_env("access_token_ttl_seconds")
    )
    verification_token_ttl_seconds: int = Field(
        default=86_400, ge=60, validation_alias=_env("verification_token_ttl_seconds")
    )
    reset_token_ttl_seconds: int = Field(
        default=3_600, ge=60, validation_alias=_env("reset_token_ttl_seconds")
    )

    lockout_threshold: int = Field(
        default=5, ge=1, validation_alias=_env("lockout_threshold")
    )
    lockout_duration_seconds: int = Field(
        default=1_800, ge=1, validation_alias=_env("lockout_duration_seconds")
    )

    rate_limit_enabled: bool = Field(
        default=True, validation_alias=_env("rate_limit_enabled")
    )
    rate_limit_per_minute: float = Field(
        default=60.0, gt=0, validation_alias=_env("rate_limit_per_minute")
    )
    rate_limit_burst: int = Field(
        default=20, ge=1, validation_alias=_env("rate_limit_burst")
    )
    trusted_proxies: Annotated[list[Network], NoDecode] = Field(
        default_factory=list,
        validation_alias=_env("trusted_proxies"),
        description="comma-separated addresses or networks whose X-Forwarded-For "
        "is believed",
    )
    max_body_bytes: int = Field(
        default=16_384, ge=1024, validation_alias=_env("max_body_bytes")
    )
    uniform_answer_seconds: float = Field(
        default=0.1,
        ge=0,
        validation_alias=_env("uniform_answer_seconds"),
        description="resend and forgot answer no sooner, registered address or not",
    )

    argon2_memory_kib: int = Field(
        default=19_456, ge=8, validation_alias=_env("argon2_memory_kib")
    )
    argon2_time_cost: int = Field(
        default=2, ge=1, validation_alias=_env("argon2_time_cost")
    )
    argon2_parallelism: int = Field(
        default=1, ge=1, validation_alias=_env("argon2_parallelism")
    )
    hashing_workers: int | None = Field(
        default=None,
        ge=1,
        validation_alias=_env("hashing_workers"),
        description="threads hashing passwords; default: the number of cores",
    )
    hashing_niceness: int = Field(
        default=0,
        ge=0,
        le=19,
        validation_alias=_env("hashing_niceness"),
        description="how much lower than the event loop the hashing threads run "
        "(a nice increment, Linux only); 0: the same priority. Measured on "
        "SQLite: no gain in health-probe latency, 4-7 % fewer logins at 10",
    )

    relay_enabled: bool = Field(
        default=True,
        validation_alias=_env("relay_enabled"),
        description="run the outbox relay inside `identity serve`",
    )
    relay_poll_seconds: float = Field(
        default=1.0, gt=0, validation_alias=_env("relay_poll_seconds")
    )
    relay_batch_size: int = Field(
        default=500, ge=1, validation_alias=_env("relay_batch_size")
    )
    relay_lease_seconds: float = Field(
        default=30.0, gt=0, validation_alias=_env("relay_lease_seconds")
    )
    relay_max_backoff_seconds: float = Field(
        default=10.0, gt=0, validation_alias=_env("relay_max_backoff_seconds")
    )
    relay_send_timeout_seconds: float = Field(
        default=10.0, gt=0, validation_alias=_env("relay_send_timeout_seconds")
    )
    outbox_retention_hours: float = Field(
        default=168.0, gt=0, validation_alias=_env("outbox_retention_hours")
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [
                ip_network(part.strip(), strict=False)
                for part in value.split(",")
                if part.strip()
            ]
        return value

    @field_validator("jwt_verification_key_files", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [Path(part.strip()) for part in value.split(",") if part.strip()]
        return value

    @model_validator(mode="after")
    def _lease_outlasts_sends(self) -> Self:
        # A cycle may wait a full send timeout; the lease must not lapse meanwhile.
        if self.relay_lease_seconds < 2 * self.relay_send_timeout_seconds:
            raise ValueError("the relay lease must last at least two send timeouts")
        return self

    @model_validator(mode="after")
    def _files_under_data_dir(self) -> Self:
        if "token_sealing_key_file" not in self.model_fields_set:
            self.token_sealing_key_file = (
                self.data_dir / "secrets" / "token-sealing.key"
            )
        if self.jwt_signing_key_file is None:
            self.jwt_signing_key_file = (
                self.data_dir / "secrets" / "jwt-signing-key.pem"
            )
        return self

    @property
    def lockout_policy(self) -> LockoutPolicy:
        return LockoutPolicy(
            threshold=self.lockout_threshold,
            duration=timedelta(seconds=self.lockout_duration_seconds),
        )

    @property
    def hashing_pool_size(self) -> int:
        return self.hashing_workers or os.cpu_count() or 1
