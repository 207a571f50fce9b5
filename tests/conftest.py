"""Fixtures for the whole suite: the real broker, real databases.

The broker is the embedded Tansu broker on a free port, started once per run
(or Apache Kafka from testcontainers with ``TEST_USE_TESTCONTAINERS=1``).
Database-backed tests run on SQLite and on the PostgreSQL server at
127.0.0.1:5432, each test on a fresh database. Under ``CI=true`` nothing
skips for a missing broker or PostgreSQL: the run fails instead.
"""

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from devstack.broker import EmbeddedBroker
from shared.settings import KafkaSettings
from tests import telemetry_capture
from tests.telemetry_capture import TelemetryCapture

IN_CI = os.environ.get("CI", "").lower() == "true"
USE_TESTCONTAINERS = os.environ.get("TEST_USE_TESTCONTAINERS") == "1"
PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("TEST_PG_USER", "postgres")
PG_DATABASE = os.environ.get("TEST_PG_DATABASE", "test")


def _missing(what: str) -> None:
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true", pytrace=False)
    pytest.skip(f"{what} is not available")


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """bootstrap.servers of a real Kafka-protocol broker for the whole run."""
    if USE_TESTCONTAINERS:
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:3.9.0").with_kraft() as container:
            yield container.get_bootstrap_server()
        return
    broker = EmbeddedBroker()
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture
async def own_broker() -> AsyncIterator[EmbeddedBroker]:
    """A broker of this test alone, to stop and start at will."""
    broker = EmbeddedBroker()
    await broker.astart()
    try:
        yield broker
    finally:
        await broker.astop()


@pytest.fixture
def kafka_settings(kafka_bootstrap: str) -> KafkaSettings:
    """Settings on the run's broker with topic names of this test alone."""
    suffix = uuid.uuid4().hex[:8]
    return KafkaSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_enable_idempotence=False,
        auth_events_topic=f"auth.events.{suffix}",
        notification_events_topic=f"notification.events.{suffix}",
        alerts_topic=f"audit.alerts.{suffix}",
        topic_partitions=3,
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A DSN of the PostgreSQL maintenance database, for creating test databases."""
    if USE_TESTCONTAINERS:
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver=None) as container:
            yield container.get_connection_url()
        return
    if not _answers(PG_HOST, PG_PORT):
        _missing(f"PostgreSQL on {PG_HOST}:{PG_PORT}")
    yield f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{PG_DATABASE}"


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A SQLAlchemy URL of a fresh PostgreSQL database, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = postgres_server.rsplit("/", 1)[0].replace("postgresql://", "")
    yield f"postgresql+asyncpg://{base}/{name}"
    admin = await asyncpg.connect(postgres_server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh database URL: once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="session")
def telemetry() -> TelemetryCapture:
    """In-memory span exporter and metric reader, installed once for the run."""
    return telemetry_capture.install()
