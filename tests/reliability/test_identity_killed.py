"""`identity serve` killed (SIGKILL) under sign-ups: every committed event is published.

The process is killed while requests are in flight, with events committed and
not yet published: its relay cannot reach the broker, so the outbox holds
them. A new process on the same database, with the broker, publishes every
one of them; none is missing and none is made up.

tests/identity/test_outbox_relay.py::test_a_relay_killed_between_commit_and_publish_loses_nothing
covers the same window in process, with a send left hanging.
"""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from devstack.broker import free_port
from identity.adapters.tables import outbox
from shared import database
from shared.events import decode_envelope
from shared.messaging import ensure_topics
from shared.settings import KafkaSettings
from tests.identity.kafka_reading import eventually, read_topic

IDENTITY = str(Path(sys.executable).with_name("identity"))


def _environment(
    sqlite_url: str, kafka: KafkaSettings, bootstrap: str, data: Path, port: int
) -> dict[str, str]:
    return {
        **os.environ,
        "IDENTITY_DATABASE_URL": sqlite_url,
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "AUTH_EVENTS_TOPIC": kafka.auth_events_topic,
        "TOPIC_PARTITIONS": str(kafka.topic_partitions),
        "DATA_DIR": str(data),
        "IDENTITY_PORT": str(port),
        "IDENTITY_ARGON2_MEMORY_KIB": "1024",
        "IDENTITY_ARGON2_TIME_COST": "1",
        "IDENTITY_RATE_LIMIT_ENABLED": "false",
        "IDENTITY_RELAY_POLL_SECONDS": "0.2",
        "IDENTITY_RELAY_MAX_BACKOFF_SECONDS": "1",
        "IDENTITY_RELAY_LEASE_SECONDS": "5",
        "IDENTITY_RELAY_SEND_TIMEOUT_SECONDS": "2",
        "OTEL_SDK_DISABLED": "true",
    }


@contextmanager
def serving(
    environment: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`identity serve`; its output goes to ``log`` (shown when a test fails)."""
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [IDENTITY, "serve"], env=environment, stdout=sink, stderr=sink
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


async def _up(http: httpx.AsyncClient) -> bool:
    try:
        return (await http.get("/healthz")).status_code == 200
    except httpx.TransportError:
        return False


async def test_a_killed_identity_loses_no_committed_event(
    sqlite_url: str, kafka_settings: KafkaSettings, tmp_path: Path
) -> None:
    port = free_port()
    nowhere = f"127.0.0.1:{free_port()}"  # the broker as the first process sees it
    first = _environment(sqlite_url, kafka_settings, nowhere, tmp_path / "data", port)
    second = {
        **first,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_settings.kafka_bootstrap_servers,
    }
    subprocess.run([IDENTITY, "migrate"], env=first, check=True, timeout=120)
    # As the consumers of a running stack do: the topic exists before anyone
    # reads it (a read would make the test broker create it with its defaults).
    await ensure_topics(kafka_settings, [kafka_settings.auth_events_topic])
    accepted = Counter[str]()

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        with serving(first, tmp_path / "first.log") as process:
            await eventually(lambda: _up(http), 60, "identity serving")

            async def sign_ups() -> None:
                for n in range(1000):
                    try:
                        answer = await http.post(
                            "/v1/users",
                            json={
                                "email": f"u{n}@example.com",
                                "password": "lantern quartz 9",
                            },
                        )
                    except httpx.TransportError:
                        return  # the process is gone
                    accepted[str(answer.status_code)] += 1

            traffic = asyncio.create_task(sign_ups())
            await eventually(lambda: _at_least(accepted, 20), 60, "20 sign-ups")
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            await traffic

        engine = database.create_engine(sqlite_url)
        try:
            recorded = await _outbox_ids(engine)
        finally:
            await engine.dispose()
        assert len(recorded) >= accepted["202"]

        with serving(second, tmp_path / "second.log"):
            await eventually(lambda: _up(http), 60, "identity serving again")

            async def all_published() -> bool:
                topic = await read_topic(
                    kafka_settings, kafka_settings.auth_events_topic
                )
                return recorded <= {
                    str(decode_envelope(r.value).event_id) for r in topic
                }

            await eventually(all_published, 60, f"{len(recorded)} events on the topic")

    records = await read_topic(kafka_settings, kafka_settings.auth_events_topic)
    on_topic = Counter(str(decode_envelope(r.value).event_id) for r in records)
    assert set(on_topic) == recorded
    assert set(accepted) == {"202"}


async def _at_least(accepted: Counter[str], count: int) -> bool:
    return accepted["202"] >= count


async def _outbox_ids(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return {
            str(row.event_id) for row in await conn.execute(select(outbox.c.event_id))
        }
