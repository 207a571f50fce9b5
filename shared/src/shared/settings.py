"""Settings every service reads: broker, topics, data folder, environment.

Each service subclasses :class:`CommonSettings` with its own fields. Nothing
outside settings modules reads ``os.environ``.
"""

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseSettings):
    """How to reach the broker and which topics carry what."""

    model_config = SettingsConfigDict(extra="ignore", env_file=".env")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # Tansu (the embedded broker) answers the idempotent producer with
    # UnknownError, so the local defaults turn idempotence off.
    kafka_enable_idempotence: bool = False
    # How long the broker may hold a consumer's fetch when there is nothing to
    # read. Tansu answers a held fetch only when the wait runs out, which adds
    # up to the whole wait to every event's way to the audit store and the
    # mailbox (measured: p50 126 ms at 500 ms, 9 ms at 50 ms). Apache Kafka
    # answers as soon as data arrives; its default, 500, saves idle requests.
    kafka_fetch_max_wait_ms: int = Field(default=50, ge=0)
    kafka_client_id_prefix: str = "authtrail"
    auth_events_topic: str = "auth.events"
    notification_events_topic: str = "notification.events"
    alerts_topic: str = "audit.alerts"
    dead_letter_suffix: str = ".dlq"
    topic_partitions: int = Field(default=6, ge=1)
    topic_replication_factor: int = Field(default=1, ge=1)

    def dead_letter_topic(self, topic: str) -> str:
        return f"{topic}{self.dead_letter_suffix}"


class CommonSettings(KafkaSettings):
    """What every process needs besides the broker."""

    data_dir: Path = Path("data")
    deployment_environment: str = "development"
    log_level: str = "INFO"
    host: str = "127.0.0.1"


class SealingSettings(BaseSettings):
    """The key(s) sealing tokens for the notifier; identity and notifier only.

    ``TOKEN_SEALING_KEYS``: comma-separated Fernet keys, the first seals, all
    unseal (rotation). Without it, a key file in the data folder is used and
    created on first start.
    """

    model_config = SettingsConfigDict(extra="ignore", env_file=".env")

    token_sealing_keys: SecretStr | None = None
    token_sealing_key_file: Path = Path("data/secrets/token-sealing.key")
