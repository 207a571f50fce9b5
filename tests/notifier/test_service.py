"""``notifier serve``: the app runs the consumer in group ``notifier`` beside
its health probes, and instances of one group share the work without losing
or duplicating a mail when one of them stops and starts again.

Group joins take seconds on the test broker: these are the only notifier
tests that join one.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI

from notifier.app import create_app
from notifier.cli import MIGRATIONS
from notifier.settings import NotifierSettings
from notifier.worker import NotifierWorker
from shared import database
from shared.events import EventType
from shared.messaging import create_producer, ensure_topics
from shared.sealing import TokenSealer
from shared.settings import KafkaSettings
from tests.notifier.auth_stream import AuthEvents, publish
from tests.notifier.conftest import eventually, notifier_settings
from tests.notifier.smtp_recorder import RecordingHandler, SmtpServer


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running, as uvicorn would run it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://notifier"
        ) as client:
            yield client


def worker_of(app: FastAPI) -> NotifierWorker:
    worker = app.state.worker
    assert isinstance(worker, NotifierWorker)
    return worker


async def test_serve_consumes_in_its_group_and_commits_what_it_mailed(
    kafka_settings: KafkaSettings, sqlite_url: str, sealer: TokenSealer
) -> None:
    mailbox = RecordingHandler()
    smtp = SmtpServer(mailbox)
    await smtp.start()
    settings = notifier_settings(kafka_settings, sqlite_url, smtp.port)
    await database.upgrade(MIGRATIONS, sqlite_url)
    # As identity does before its first publish: the embedded broker would
    # otherwise create the topic with its own partition count when the
    # producer asks for it, racing the service's creation.
    await ensure_topics(settings, [settings.auth_events_topic])
    producer = create_producer(settings, "test-identity")
    await producer.start()
    email = "served@example.org"
    event = AuthEvents(sealer).registered(email, "tok-served")
    try:
        async with serving(create_app(settings, sealer=sealer)) as client:
            assert (await client.get("/healthz")).json() == {"status": "ok"}
            await publish(producer, settings.auth_events_topic, event)
            await eventually(lambda: len(mailbox.to(email)) == 1, timeout=30)
            ready = await client.get("/readyz")
            assert ready.status_code == 200
            assert ready.json()["checks"] == {
                "database": "ok",
                "broker": "ok",
                "consumer": "ok",
            }
            committed = await committed_offsets(settings)
    finally:
        await producer.stop()
        await smtp.stop()

    assert mailbox.to(email)[0].token_of("/verify") == "tok-served"
    assert committed == 1


async def committed_offsets(settings: NotifierSettings) -> int:
    """The group's committed offsets summed over the topic's partitions,
    once they match the end offsets (the commit follows the mail)."""
    group = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.consumer_group,
        enable_auto_commit=False,
    )
    await group.start()
    partitions = [
        TopicPartition(settings.auth_events_topic, p)
        for p in range(settings.topic_partitions)
    ]
    state: dict[str, int] = {}

    async def caught_up() -> bool:
        ends = await group.end_offsets(partitions)
        committed = {tp: await group.committed(tp) or 0 for tp in partitions}
        state["committed"] = sum(committed.values())
        return committed == ends and state["committed"] > 0

    try:
        deadline = asyncio.get_running_loop().time() + 30
        while not await caught_up():
            if asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(0.2)
    finally:
        await group.stop()
    return state["committed"]


async def test_two_instances_one_stopped_and_started_under_a_steady_stream(
    kafka_settings: KafkaSettings, database_url: str, sealer: TokenSealer
) -> None:
    """No lost and no duplicate mail, counted per event id."""
    mailbox = RecordingHandler(data_delay=0.005)  # batches are in flight
    smtp = SmtpServer(mailbox)
    await smtp.start()
    settings = notifier_settings(kafka_settings, database_url, smtp.port)
    await database.upgrade(MIGRATIONS, database_url)
    topic = settings.auth_events_topic
    await ensure_topics(settings, [topic, settings.dead_letter_topic(topic)])
    producer = create_producer(settings, "test-identity")
    await producer.start()
    events = AuthEvents(sealer)
    users = [(uuid4(), f"user{i}@example.org") for i in range(24)]
    published: list[str] = []
    streaming = asyncio.Event()
    streaming.set()

    async def steady_stream() -> None:
        n = 0
        while streaming.is_set():
            user_id, email = users[n % len(users)]
            event = events.plain(EventType.PASSWORD_CHANGED, email, user_id)
            await publish(producer, topic, event)
            published.append(str(event.event_id))
            n += 1
            await asyncio.sleep(0.1)

    def mailed() -> int:
        return len(mailbox.mails)

    first = create_app(settings, sealer=sealer)
    second = create_app(settings, sealer=sealer)
    restarted = create_app(settings, sealer=sealer)
    try:
        async with serving(first):
            stream = asyncio.create_task(steady_stream())
            # The first instance alone, then a second one joins (a rebalance).
            await eventually(lambda: worker_of(first).records_handled >= 5, 60)
            async with serving(second):
                await eventually(lambda: worker_of(second).records_handled >= 5, 60)
            # The second leaves (a rebalance): the first takes all partitions.
            handled = worker_of(first).records_handled
            await eventually(lambda: worker_of(first).records_handled >= handled + 20)
            async with serving(restarted):
                await eventually(lambda: worker_of(restarted).records_handled >= 5, 60)
                streaming.clear()
                await stream
                await eventually(lambda: mailed() >= len(published), 60)
    finally:
        streaming.clear()
        await producer.stop()
        await smtp.stop()

    per_event = Counter(m.event_id for m in mailbox.mails)
    assert set(per_event) == set(published), "a mail was lost"
    assert max(per_event.values()) == 1, "a mail went out twice"
