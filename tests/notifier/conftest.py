"""A running notifier for the tests: real broker, real SMTP server, real
database, and identity's side played by producing sealed events by hand."""

import asyncio
import inspect
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from notifier.cli import MIGRATIONS
from notifier.settings import NotifierSettings
from notifier.worker import NotifierWorker
from shared import database
from shared.events import EventEnvelope
from shared.messaging import create_producer, ensure_topics
from shared.sealing import TokenSealer
from shared.settings import KafkaSettings
from tests.notifier.auth_stream import AuthEvents, publish
from tests.notifier.smtp_recorder import ReceivedMail, RecordingHandler, SmtpServer

PUBLIC_URL = "https://auth.example.test"
SENDER = "no-reply@example.test"


def notifier_settings(
    kafka: KafkaSettings, database_url: str, smtp_port: int, **overrides: Any
) -> NotifierSettings:
    """Settings for one test: its topics and database, a group of its own,
    retries short enough for a test yet bounded."""
    values: dict[str, Any] = {
        **kafka.model_dump(),
        "NOTIFIER_DATABASE_URL": database_url,
        "NOTIFIER_CONSUMER_GROUP": f"notifier-{uuid.uuid4().hex[:8]}",
        "smtp_port": smtp_port,
        "smtp_timeout_seconds": 2.0,
        "NOTIFIER_MAX_ATTEMPTS": 30,
        "NOTIFIER_RETRY_BASE_SECONDS": 0.2,
        "NOTIFIER_RETRY_MAX_SECONDS": 1.0,
        "NOTIFIER_SENDING_LEASE_SECONDS": 5.0,
        "public_url": PUBLIC_URL,
        "mail_from": SENDER,
        "product_name": "Authtrail Test",
        **overrides,
    }
    return NotifierSettings.model_validate(values)


async def eventually(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 20.0,
    what: str = "condition",
) -> None:
    """Poll ``check`` (plain or async) until it holds; fail after ``timeout``."""
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


@dataclass
class RunningNotifier:
    settings: NotifierSettings
    mailbox: RecordingHandler
    smtp: SmtpServer
    events: AuthEvents
    producer: AIOKafkaProducer
    worker: NotifierWorker

    async def publish(self, event: EventEnvelope, *, trace: str | None = None) -> None:
        await publish(
            self.producer, self.settings.auth_events_topic, event, trace=trace
        )

    async def mails_to(
        self, address: str, count: int = 1, timeout: float = 20.0
    ) -> list[ReceivedMail]:
        await eventually(
            lambda: len(self.mailbox.to(address)) >= count,
            timeout,
            f"{count} mail(s) to {address}",
        )
        return self.mailbox.to(address)


@asynccontextmanager
async def running_worker(
    settings: NotifierSettings, sealer: TokenSealer
) -> AsyncIterator[NotifierWorker]:
    """A migrated database and a worker reading every partition (no group
    join: that costs seconds on the test broker and is tested on its own)."""
    await database.upgrade(MIGRATIONS, settings.database_url)
    engine = database.create_engine(settings.database_url)
    worker = NotifierWorker(
        settings, engine, sealer, partitions=range(settings.topic_partitions)
    )
    task = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: worker.consuming, what="consumer started")
        yield worker
    finally:
        worker.stop()
        await asyncio.wait_for(task, 30)
        await engine.dispose()


@asynccontextmanager
async def running_notifier(
    kafka: KafkaSettings,
    database_url: str,
    sealer: TokenSealer,
    *,
    smtp_started: bool = True,
    **overrides: Any,
) -> AsyncIterator[RunningNotifier]:
    mailbox = RecordingHandler()
    smtp = SmtpServer(mailbox)
    settings = notifier_settings(kafka, database_url, smtp.port, **overrides)
    topic = settings.auth_events_topic
    await ensure_topics(
        settings,
        [topic, settings.dead_letter_topic(topic), settings.notification_events_topic],
    )
    producer = create_producer(settings, "test-identity")
    await producer.start()
    if smtp_started:
        await smtp.start()
    try:
        async with running_worker(settings, sealer) as worker:
            yield RunningNotifier(
                settings, mailbox, smtp, AuthEvents(sealer), producer, worker
            )
    finally:
        await producer.stop()
        await smtp.stop()


@pytest.fixture(scope="session")
def sealer() -> TokenSealer:
    return TokenSealer([TokenSealer.generate_key()])


@pytest.fixture
async def notifier(
    kafka_settings: KafkaSettings, database_url: str, sealer: TokenSealer
) -> AsyncIterator[RunningNotifier]:
    """A running notifier on SQLite, then on PostgreSQL (ledger tests)."""
    async with running_notifier(kafka_settings, database_url, sealer) as running:
        yield running


@pytest.fixture
async def sqlite_notifier(
    kafka_settings: KafkaSettings, sqlite_url: str, sealer: TokenSealer
) -> AsyncIterator[RunningNotifier]:
    """A running notifier on SQLite (tests about mails, not the ledger)."""
    async with running_notifier(kafka_settings, sqlite_url, sealer) as running:
        yield running
