"""Outages: the service keeps answering while the broker is away and consumes
once it is back; a database that is away is retried, never dead-lettered."""

import uuid

import httpx
import pytest

from audit.adapters.store_engine import audit_engine
from audit.app import create_app
from audit.cli import MIGRATIONS
from audit.projection import Projection, audit_event
from devstack.broker import EmbeddedBroker, free_port
from shared import database
from shared.messaging import create_producer, ensure_topics
from shared.messaging.consumer import DependencyUnavailable
from tests.audit.conftest import audit_settings, eventually, topics_of_their_own
from tests.audit.stream import NOW, Account, headers_of, record_of, traceparent


async def test_the_broker_away_then_back(sqlite_url: str) -> None:
    broker = EmbeddedBroker()  # chosen, not started: nothing listens there yet
    kafka = topics_of_their_own(broker.bootstrap_servers)
    settings = audit_settings(
        sqlite_url, kafka, AUDIT_CONSUMER_GROUP=f"audit-{uuid.uuid4().hex[:8]}"
    )
    await database.upgrade(MIGRATIONS, sqlite_url)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://audit.test"
            ) as api:
                # Given no broker, readiness names it, and queries still work.
                away = await api.get("/readyz")
                assert away.status_code == 503
                assert set(away.json()["failing"]) == {"broker", "consumer"}
                assert (await api.get("/v1/events")).json()["items"] == []

                # When it comes up and an event is published,
                await broker.astart()
                await ensure_topics(kafka, [kafka.auth_events_topic])
                login = Account("back@example.com").logged_in(NOW)
                producer = create_producer(kafka, "test-identity")
                await producer.start()
                try:
                    await producer.send_and_wait(
                        kafka.auth_events_topic,
                        record_of(login).value,
                        key=login.key,
                        headers=headers_of(login, traceparent()),
                    )
                finally:
                    await producer.stop()

                # then the consumer reconnects by itself and projects it.
                async def stored() -> bool:
                    items = (await api.get("/v1/events")).json()["items"]
                    return [i["event_id"] for i in items] == [str(login.event_id)]

                await eventually(stored, 45, "the event projected after the outage")
                assert (await api.get("/readyz")).status_code == 200
    finally:
        await broker.astop()


async def test_a_database_that_is_away_is_retried_not_dead_lettered() -> None:
    engine = audit_engine(
        f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/audit"
    )
    event = audit_event(record_of(Account("a@example.com").logged_in(NOW)))
    try:
        with pytest.raises(DependencyUnavailable):
            await Projection(engine).project([event])
    finally:
        await engine.dispose()


async def test_queries_answer_503_while_the_database_is_away() -> None:
    settings = audit_settings(
        f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/audit"
    )
    app = create_app(settings, background=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://audit.test"
        ) as api:
            response = await api.get("/v1/events")
            ready = await api.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/service_unavailable")
    assert ready.status_code == 503
    assert "database" in ready.json()["failing"]
