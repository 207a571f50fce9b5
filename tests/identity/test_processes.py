"""The commands as an operator runs them: `migrate`, `serve`, and `relay` alone."""

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.broker import free_port
from shared.events import EventType, decode_envelope
from shared.settings import KafkaSettings
from tests.identity.kafka_reading import eventually, read_topic


@pytest.fixture
def environment(
    sqlite_url: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> dict[str, str]:
    return {
        **os.environ,
        "IDENTITY_DATABASE_URL": sqlite_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.kafka_bootstrap_servers,
        "AUTH_EVENTS_TOPIC": kafka_settings.auth_events_topic,
        "TOPIC_PARTITIONS": str(kafka_settings.topic_partitions),
        "DATA_DIR": str(tmp_path / "data"),
        "IDENTITY_PORT": str(free_port()),
        "IDENTITY_ARGON2_MEMORY_KIB": "1024",
        "IDENTITY_ARGON2_TIME_COST": "1",
        # the relay inside `serve` runs in every in-process test; here it runs alone
        "IDENTITY_RELAY_ENABLED": "false",
        "OTEL_SDK_DISABLED": "true",
    }


def _identity_command() -> str:
    return str(Path(sys.executable).with_name("identity"))


@pytest.fixture
def served(environment: dict[str, str]) -> Iterator[str]:
    """`identity serve` without its relay, next to `identity relay`."""
    identity = _identity_command()
    subprocess.run([identity, "migrate"], env=environment, check=True, timeout=120)
    processes = [
        subprocess.Popen(
            [identity, command],
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for command in ("serve", "relay")
    ]
    try:
        yield f"http://127.0.0.1:{environment['IDENTITY_PORT']}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            _, stderr = process.communicate(timeout=30)
            # uvicorn shuts down cleanly, then re-raises the signal it was sent
            assert process.returncode in (0, -signal.SIGTERM), stderr.decode()[-2000:]
            assert b"Traceback" not in stderr, stderr.decode()[-2000:]


async def test_serve_answers_http_and_relays_events_to_kafka(
    served: str, kafka_settings: KafkaSettings, environment: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=served) as client:

        async def up() -> bool:
            try:
                return (await client.get("/readyz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(up, timeout=90, what="identity serving")
        answer = await client.post(
            "/v1/users",
            json={"email": "ada@example.com", "password": "correct horse battery"},
        )
        assert answer.status_code == 202

        async def published() -> bool:
            return bool(
                await read_topic(kafka_settings, kafka_settings.auth_events_topic)
            )

        await eventually(published, timeout=60, what="the event on the topic")

    (record,) = await read_topic(kafka_settings, kafka_settings.auth_events_topic)
    envelope = decode_envelope(record.value)
    assert envelope.event_type == EventType.REGISTRATION_SUCCESS
    assert envelope.ip == "127.0.0.1"
    key_files = sorted(
        p.name for p in (Path(environment["DATA_DIR"]) / "secrets").iterdir()
    )
    assert key_files == ["jwt-signing-key.pem", "token-sealing.key"]
