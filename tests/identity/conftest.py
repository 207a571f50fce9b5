"""Fixtures of the identity tests: a migrated database, the app, its events.

The app runs in-process with its lifespan, spoken to over real HTTP semantics
through httpx's ASGI transport; the outbox is read back as the envelopes the
relay would publish. argon2 runs with small parameters except where a test is
about hashing.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from identity.adapters.tables import outbox
from identity.app import create_app
from identity.cli import MIGRATIONS
from identity.settings import IdentitySettings
from shared import database
from shared.events import EventEnvelope, EventType, decode_envelope
from shared.sealing import TokenSealer, sealer_from_settings
from shared.settings import KafkaSettings

CLIENT_IP = "203.0.113.7"
PASSWORD = "correct horse battery"


def settings_for(
    database_url: str, data_dir: Path, **overrides: Any
) -> IdentitySettings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": data_dir,
        "kafka_bootstrap_servers": "127.0.0.1:9",
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
        "hashing_workers": 2,
        "rate_limit_enabled": False,
        "relay_enabled": False,
        **overrides,
    }
    return IdentitySettings(**values)


@pytest.fixture
async def identity_settings(database_url: str, tmp_path: Path) -> IdentitySettings:
    settings = settings_for(database_url, tmp_path / "data")
    await database.upgrade(MIGRATIONS, settings.database_url)
    return settings


class Clock:
    """Real time plus an offset that a test can move forward."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@dataclass
class Identity:
    """The running service, as a client and an analyst see it."""

    app: FastAPI
    http: httpx.AsyncClient
    settings: IdentitySettings
    sealer: TokenSealer
    clock: Clock

    async def envelopes(self) -> list[EventEnvelope]:
        """Every recorded event, as the relay publishes it, in order."""
        engine = self.app.state.engine
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(outbox.c.message_value).order_by(outbox.c.seq)
            )
            return [decode_envelope(row.message_value) for row in rows]

    async def last(self, event_type: EventType) -> EventEnvelope:
        matching = [e for e in await self.envelopes() if e.event_type == event_type]
        assert matching, f"no {event_type} recorded"
        return matching[-1]

    async def token_from(self, event_type: EventType) -> str:
        """The raw token the notifier would open from the latest such event."""
        sealed = (await self.last(event_type)).data.sealed_token  # type: ignore[attr-defined]
        assert isinstance(sealed, str)
        return self.sealer.unseal(sealed)

    async def register(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.http.post(
            "/v1/users", json={"email": email, "password": password}
        )

    async def register_verified(self, email: str, password: str = PASSWORD) -> str:
        assert (await self.register(email, password)).status_code == 202
        token = await self.token_from(EventType.REGISTRATION_SUCCESS)
        answer = await self.http.post("/v1/users/verification", json={"token": token})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["user_id"])

    async def log_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return await self.http.post(
            "/v1/auth/token", json={"email": email, "password": password}
        )

    async def access_token(self, email: str, password: str = PASSWORD) -> str:
        answer = await self.log_in(email, password)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["access_token"])


@asynccontextmanager
async def running(
    settings: IdentitySettings, client_ip: str = CLIENT_IP
) -> AsyncIterator[Identity]:
    clock = Clock()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=(client_ip, 50000))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://identity.test",
            headers={"User-Agent": "identity-tests/1.0"},
        ) as client:
            yield Identity(app, client, settings, sealer_from_settings(settings), clock)


@pytest.fixture
async def identity(identity_settings: IdentitySettings) -> AsyncIterator[Identity]:
    async with running(identity_settings) as service:
        yield service


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def with_broker(
    settings: IdentitySettings, kafka: KafkaSettings, **overrides: Any
) -> IdentitySettings:
    return settings.model_copy(
        update={
            "kafka_bootstrap_servers": kafka.kafka_bootstrap_servers,
            "auth_events_topic": kafka.auth_events_topic,
            "topic_partitions": kafka.topic_partitions,
            **overrides,
        }
    )


async def published_bytes(identity: Identity) -> bytes:
    """Everything that leaves the service on the topic: keys, values, headers."""
    engine = identity.app.state.engine
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.message_key, outbox.c.message_value, outbox.c.headers)
        )
        return b"\n".join(
            r.message_key + r.message_value + r.headers.encode() for r in rows
        )


def problem_code(answer: httpx.Response) -> str:
    """The stable code at the end of a problem+json ``type``."""
    assert answer.headers["content-type"] == "application/problem+json", answer.text
    body = answer.json()
    assert body["status"] == answer.status_code
    assert {"type", "title", "status", "detail"} <= body.keys()
    return str(body["type"]).rsplit("/", 1)[-1]
