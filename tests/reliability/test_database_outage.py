"""The identity database goes away and comes back: 503s that say why, no restart.

PostgreSQL is made unavailable the way an operator or a failover would: the
database stops accepting connections and its backends are terminated, so the
pool's open connections break and new ones are refused.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord

from audit.projection import Projection
from identity.cli import MIGRATIONS
from shared import database
from shared.messaging import ensure_topics
from shared.messaging.consumer import DependencyUnavailable
from shared.sealing import TokenSealer
from shared.settings import KafkaSettings
from tests.audit.conftest import (
    Clock,
    audit_client,
    audit_settings,
    migrated_store,
    problem_of,
)
from tests.audit.stream import NOW, Account, record_of, traceparent
from tests.identity.conftest import (
    Identity,
    problem_code,
    running,
    settings_for,
    with_broker,
)
from tests.identity.kafka_reading import eventually, read_topic
from tests.notifier.conftest import running_notifier


@asynccontextmanager
async def database_away(server_dsn: str, name: str) -> AsyncIterator[None]:
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
        yield
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.close()


async def test_identity_answers_503_while_its_database_is_away_then_recovers(
    postgres_server: str,
    postgres_url: str,
    kafka_settings: KafkaSettings,
    tmp_path: Path,
) -> None:
    settings = with_broker(
        settings_for(postgres_url, tmp_path / "data"), kafka_settings
    )
    await database.upgrade(MIGRATIONS, postgres_url)
    name = postgres_url.rsplit("/", 1)[1]
    async with running(settings) as identity:
        await identity.register_verified("ada@example.com")
        assert (await identity.http.get("/readyz")).status_code == 200

        async with database_away(postgres_server, name):
            answers = [
                await identity.log_in("ada@example.com"),
                await identity.register("bob@example.com"),
                await identity.http.post(
                    "/v1/password/forgot", json={"email": "ada@example.com"}
                ),
            ]
            ready = await identity.http.get("/readyz")
            alive = await identity.http.get("/healthz")

            for answer in answers:
                assert answer.status_code == 503, answer.text
                assert problem_code(answer) == "service_unavailable"
                assert int(answer.headers["Retry-After"]) > 0
                assert "asyncpg" not in answer.text and "SQL" not in answer.text
            assert ready.status_code == 503
            assert ready.headers["content-type"] == "application/problem+json"
            assert set(ready.json()["failing"]) == {"database"}
            assert alive.status_code == 200

        async def recovered() -> bool:
            return (await identity.log_in("ada@example.com")).status_code == 200

        await eventually(recovered, 30, "logins working again")
        assert (await identity.http.get("/readyz")).status_code == 200
        assert (await identity.register("bob@example.com")).status_code == 202
        await _nothing_half_written(identity)


async def _nothing_half_written(identity: Identity) -> None:
    """Every recorded event has its outbox row: the failed requests left none."""
    envelopes = await identity.envelopes()
    kinds = [e.event_type.value for e in envelopes]
    assert kinds.count("registration_success") == 2
    assert "password_reset_requested" not in kinds  # refused with 503, not recorded


async def test_audit_keeps_events_for_later_while_its_database_is_away(
    postgres_server: str, postgres_url: str
) -> None:
    """The projection reports a dependency outage (retried without bound by
    the consumer loop) instead of an error that would dead-letter the event;
    the API answers 503."""
    ada = Account("ada@example.com")
    record = record_of(ada.registered(NOW), traceparent())
    name = postgres_url.rsplit("/", 1)[1]
    async with (
        migrated_store(postgres_url) as store,
        audit_client(audit_settings(postgres_url), Clock()) as api,
    ):
        await store.project([ada.email_sent(NOW)])
        assert (await api.get("/v1/events")).status_code == 200

        async with database_away(postgres_server, name):
            with pytest.raises(DependencyUnavailable):
                await Projection(store.engine).handle([record])
            answer = await api.get("/v1/events")

        assert answer.status_code == 503, answer.text
        assert problem_of(answer)["type"].endswith("service_unavailable")
        await Projection(store.engine).handle([record])
        items = (await api.get("/v1/events")).json()["items"]
        assert {i["event_type"] for i in items} == {
            "registration_success",
            "email_sent",
        }


async def test_the_notifier_waits_for_its_ledger_instead_of_dead_lettering(
    postgres_server: str,
    postgres_url: str,
    kafka_settings: KafkaSettings,
    sealer: TokenSealer,
) -> None:
    name = postgres_url.rsplit("/", 1)[1]
    async with running_notifier(
        kafka_settings, postgres_url, sealer, NOTIFIER_MAX_ATTEMPTS=2
    ) as notifier:
        await notifier.publish(notifier.events.registered("ada@example.com", "t-1"))
        await notifier.mails_to("ada@example.com")

        async with database_away(postgres_server, name):
            await notifier.publish(notifier.events.registered("bob@example.com", "t-2"))
            await asyncio.sleep(3)  # a few retries' worth of outage
            assert notifier.mailbox.to("bob@example.com") == []

        (mail,) = await notifier.mails_to("bob@example.com", timeout=30)
        assert mail.token_of("/verify") == "t-2"
        dead = await dead_letters(kafka_settings)
        assert dead == []


async def dead_letters(kafka: KafkaSettings) -> list[ConsumerRecord]:
    topic = kafka.dead_letter_topic(kafka.auth_events_topic)
    await ensure_topics(kafka, [topic])
    return await read_topic(kafka, topic)
