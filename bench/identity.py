"""An identity process as `identity serve` runs it, configured for load.

The rate limit is off (every request comes from 127.0.0.1) and the lockout
threshold is out of reach, so that wrong passwords keep exercising the
wrong-password path instead of the locked one. Everything else is default:
argon2id m=19456 KiB t=2 p=1, a hashing pool of one thread per core, the
outbox relay inside the process publishing to the embedded broker.
"""

from dataclasses import dataclass, field
from pathlib import Path

from bench.processes import Service, clean_environment, run_once, script
from devstack.broker import free_port
from shared.sealing import TokenSealer

TELEMETRY_OFF = {"OTEL_SDK_DISABLED": "true"}


def telemetry_to(endpoint: str) -> dict[str, str]:
    """Every signal exported over OTLP/gRPC to ``endpoint``, as in production."""
    return {
        "OTEL_SDK_DISABLED": "false",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_SERVICE_NAME": "identity",
    }


@dataclass
class Identity:
    service: Service
    url: str
    database_url: str
    sealer: TokenSealer
    env: dict[str, str] = field(default_factory=dict)


def identity_environment(
    data_dir: Path,
    database_url: str,
    port: int,
    bootstrap_servers: str,
    sealing_key: bytes,
    telemetry: dict[str, str],
) -> dict[str, str]:
    return (
        clean_environment()
        | {
            "HOST": "127.0.0.1",
            "DATA_DIR": str(data_dir),
            "IDENTITY_DATABASE_URL": database_url,
            "IDENTITY_PORT": str(port),
            "IDENTITY_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap_servers,
            "KAFKA_ENABLE_IDEMPOTENCE": "false",
            "TOKEN_SEALING_KEYS": sealing_key.decode(),
            "IDENTITY_RATE_LIMIT_ENABLED": "false",
            "IDENTITY_LOCKOUT_THRESHOLD": "1000000",
        }
        | telemetry
    )


async def start_identity(
    work_dir: Path,
    name: str,
    database_url: str,
    bootstrap_servers: str,
    telemetry: dict[str, str] = TELEMETRY_OFF,
    extra: dict[str, str] | None = None,
) -> Identity:
    port = free_port()
    key = TokenSealer.generate_key()
    data_dir = work_dir / name
    env = identity_environment(
        data_dir, database_url, port, bootstrap_servers, key, telemetry
    ) | (extra or {})
    log = work_dir / "logs" / f"{name}.log"
    await run_once([script("identity"), "migrate"], env, log)
    url = f"http://127.0.0.1:{port}"
    service = Service(name, [script("identity"), "serve"], env, log, f"{url}/healthz")
    await service.start()
    return Identity(service, url, database_url, TokenSealer([key]), env)
