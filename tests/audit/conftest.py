"""The audit service under test: a migrated store, the app over ASGI, a clock."""

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.adapters.tables import metadata
from audit.app import create_app
from audit.cli import MIGRATIONS
from audit.projection import Projection, audit_event
from audit.settings import AuditSettings
from shared import database
from shared.events import EventEnvelope, encode_envelope
from shared.messaging import create_producer, ensure_topics
from shared.settings import KafkaSettings
from tests.audit.stream import NOW, headers_of, record_of, traceparent

UNUSED_BROKER = "127.0.0.1:9"  # discard port: nothing here talks to a broker


def audit_settings(
    database_url: str, kafka: KafkaSettings | None = None, **overrides: Any
) -> AuditSettings:
    values: dict[str, Any] = {
        **(kafka.model_dump() if kafka else {}),
        "AUDIT_DATABASE_URL": database_url,
        **overrides,
    }
    if kafka is None:
        values["kafka_bootstrap_servers"] = UNUSED_BROKER
    return AuditSettings.model_validate(values)


class Clock:
    """The "now" of the app under test; tests move it."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Store:
    url: str
    engine: AsyncEngine

    async def project(
        self, envelopes: Iterable[EventEnvelope], *, traced: bool = True
    ) -> int:
        """Project events as one consumed batch, each with its own trace."""
        records = [
            record_of(e, traceparent() if traced else None, offset=i)
            for i, e in enumerate(envelopes)
        ]
        return await Projection(self.engine).project([audit_event(r) for r in records])

    async def count(self, table: Any, *where: Any) -> int:
        async with self.engine.connect() as conn:
            query = select(func.count()).select_from(table).where(*where)
            return int(await conn.scalar(query) or 0)

    async def rows(self, table: Any, *order_by: Any) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            result = await conn.execute(select(table).order_by(*order_by))
            return [dict(row._mapping) for row in result]


@asynccontextmanager
async def migrated_store(url: str) -> AsyncIterator[Store]:
    await database.upgrade(MIGRATIONS, url)
    engine = database.create_engine(url)
    try:
        yield Store(url, engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A freshly migrated audit store on SQLite, then on PostgreSQL."""
    async with migrated_store(database_url) as fresh:
        yield fresh


@pytest.fixture(
    scope="module",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
async def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh database shared by one module's tests: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('audit') / 'audit.db'}"
        return
    server = str(request.getfixturevalue("postgres_server"))
    name = f"t_audit_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = server.rsplit("/", 1)[0].replace("postgresql://", "")
    yield f"postgresql+asyncpg://{base}/{name}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def module_store(module_database_url: str) -> AsyncIterator[Store]:
    """A migrated store for tests that only read what the module projected."""
    async with migrated_store(module_database_url) as shared:
        yield shared


@asynccontextmanager
async def audit_client(
    settings: AuditSettings, clock: Callable[[], datetime], background: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    """The audit app with its lifespan run, over ASGI."""
    app = create_app(settings, background=background, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://audit.test"
        ) as client:
            yield client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def api(store: Store, clock: Clock) -> AsyncIterator[httpx.AsyncClient]:
    """The query API over the test's store, at the test's clock."""
    async with audit_client(audit_settings(store.url), clock) as client:
        yield client


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 20.0,
    what: str = "condition",
) -> None:
    """Poll ``check`` until it holds; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if loop.time() > deadline:
            raise AssertionError(f"{what} not met within {timeout} s")
        await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
def module_kafka(kafka_bootstrap: str, module_database_url: str) -> KafkaSettings:
    """Topics of one module (and database) alone, for a consumer the module's
    tests share: joining a group costs seconds on the test broker."""
    return topics_of_their_own(kafka_bootstrap)


def topics_of_their_own(kafka_bootstrap: str) -> KafkaSettings:
    suffix = uuid.uuid4().hex[:8]
    return KafkaSettings(
        kafka_bootstrap_servers=kafka_bootstrap,
        kafka_enable_idempotence=False,
        auth_events_topic=f"auth.events.{suffix}",
        notification_events_topic=f"notification.events.{suffix}",
        alerts_topic=f"audit.alerts.{suffix}",
        topic_partitions=3,
    )


@dataclass
class RunningAudit:
    settings: AuditSettings
    app: FastAPI
    client: httpx.AsyncClient
    producer: AIOKafkaProducer
    base_url: str

    async def publish(
        self, envelope: EventEnvelope, *, topic: str | None = None
    ) -> str:
        """Produce as identity does; answers the traceparent sent along."""
        trace = traceparent()
        await self.producer.send_and_wait(
            topic or self.settings.auth_events_topic,
            encode_envelope(envelope),
            key=envelope.key,
            headers=headers_of(envelope, trace),
        )
        return trace

    async def publish_together(self, *envelopes: EventEnvelope) -> None:
        """Produce all of ``envelopes`` at once, so that the producer puts
        several records in one batch, as identity's relay does under load."""
        topic = self.settings.auth_events_topic
        sent = [
            await self.producer.send(
                topic,
                encode_envelope(envelope),
                key=envelope.key,
                headers=headers_of(envelope, traceparent()),
            )
            for envelope in envelopes
        ]
        await asyncio.gather(*sent)

    async def stored(self, *envelopes: EventEnvelope, timeout: float = 30.0) -> None:
        """Wait until every one of ``envelopes`` is in the audit store."""
        wanted = {str(e.event_id) for e in envelopes}

        async def all_there() -> bool:
            response = await self.client.get("/v1/events", params={"limit": 1000})
            return wanted <= {i["event_id"] for i in response.json()["items"]}

        await eventually(all_there, timeout, f"{len(wanted)} events stored")


@asynccontextmanager
async def running_audit(
    kafka: KafkaSettings, database_url: str, **overrides: Any
) -> AsyncIterator[RunningAudit]:
    """``audit serve`` in process: migrated store, consumer and alert tasks,
    the HTTP app under a real uvicorn on a free port."""
    settings = audit_settings(
        database_url,
        kafka,
        AUDIT_CONSUMER_GROUP=f"audit-{uuid.uuid4().hex[:8]}",
        **overrides,
    )
    topics = [settings.auth_events_topic, settings.notification_events_topic]
    await ensure_topics(
        settings,
        [*topics, *map(settings.dead_letter_topic, topics), settings.alerts_topic],
    )
    await database.upgrade(MIGRATIONS, database_url)
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_config=None,
            access_log=False,
            lifespan="on",
        )
    )
    serving = asyncio.create_task(server.serve())
    producer = create_producer(settings, "test-identity")
    await producer.start()
    try:
        await eventually(lambda: server.started, 30, "uvicorn started")
        port = server.servers[0].sockets[0].getsockname()[1]
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url) as client:
            yield RunningAudit(settings, app, client, producer, base_url)
    finally:
        await producer.stop()
        server.should_exit = True
        await asyncio.wait_for(serving, 30)


async def read_topic(
    kafka: KafkaSettings,
    topic: str,
    satisfied: Callable[[list[ConsumerRecord]], bool],
    timeout: float = 20.0,
) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the start (no group: assigned partitions),
    read until ``satisfied``; fails after ``timeout`` seconds."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=kafka.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        partitions = [TopicPartition(topic, p) for p in range(kafka.topic_partitions)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not satisfied(records):
            if loop.time() > deadline:
                raise AssertionError(
                    f"{topic}: not satisfied by {len(records)} records"
                )
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


def schema_differences(connection: Connection) -> list[Any]:
    """What Alembic finds between the database and the tables in code."""
    context = MigrationContext.configure(connection)
    return [
        diff
        for diff in compare_metadata(context, metadata)
        # Alembic cannot compare expression indexes such as lower(email).
        if not (diff[0] in ("add_index", "remove_index") and "email" in diff[1].name)
    ]


def problem_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body
