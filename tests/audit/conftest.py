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
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.app import create_app
from audit.cli import MIGRATIONS
from audit.projection import Projection, audit_event
from audit.settings import AuditSettings
from shared import database
from shared.events import EventEnvelope
from shared.settings import KafkaSettings
from tests.audit.stream import NOW, record_of, traceparent

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


def problem_of(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body
