"""Settings of the notifier service, read once at start-up."""

from typing import Self

from pydantic import AliasChoices, Field, SecretStr, model_validator

from shared.settings import CommonSettings, SealingSettings


class NotifierSettings(CommonSettings, SealingSettings):
    """Broker, database, SMTP server, mail content and delivery retries.

    The sealing keys (``TOKEN_SEALING_KEYS``) come from :class:`SealingSettings`:
    the notifier opens the tokens that identity sealed for it.
    """

    database_url: str = Field(
        default="sqlite+aiosqlite:///data/notifier.db",
        validation_alias=AliasChoices("NOTIFIER_DATABASE_URL"),
    )
    port: int = Field(default=8002, validation_alias=AliasChoices("NOTIFIER_PORT"))
    consumer_group: str = Field(
        default="notifier", validation_alias=AliasChoices("NOTIFIER_CONSUMER_GROUP")
    )

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_tls: bool = Field(default=False, description="implicit TLS (port 465)")
    smtp_validate_certs: bool = True
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)

    mail_from: str = "no-reply@authtrail.localhost"
    product_name: str = "authtrail"
    public_url: str = Field(
        default="http://127.0.0.1:8001",
        description="where identity serves the /verify and /reset-password pages",
    )

    delivery_max_attempts: int = Field(
        default=8, ge=1, validation_alias=AliasChoices("NOTIFIER_MAX_ATTEMPTS")
    )
    delivery_retry_base_seconds: float = Field(
        default=1.0, gt=0, validation_alias=AliasChoices("NOTIFIER_RETRY_BASE_SECONDS")
    )
    delivery_retry_max_seconds: float = Field(
        default=60.0, gt=0, validation_alias=AliasChoices("NOTIFIER_RETRY_MAX_SECONDS")
    )
    sending_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        validation_alias=AliasChoices("NOTIFIER_SENDING_LEASE_SECONDS"),
        description="how long a 'sending' ledger row is taken as still in flight",
    )

    @model_validator(mode="after")
    def _one_tls_mode(self) -> Self:
        if self.smtp_starttls and self.smtp_tls:
            raise ValueError("SMTP_STARTTLS and SMTP_TLS exclude each other")
        if self.sending_lease_seconds <= 2 * self.smtp_timeout_seconds:
            raise ValueError("the sending lease must outlast two SMTP timeouts")
        return self
