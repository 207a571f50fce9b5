"""The journey once more with every service on PostgreSQL, as in production."""

import secrets
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.e2e.clients import Clients, Person
from tests.e2e.conftest import BEHIND_A_PROXY
from tests.e2e.journey import then_the_audit_tells_the_journey, walk_the_journey
from tests.e2e.system import running_system

pytestmark = pytest.mark.e2e


async def test_the_journey_on_postgresql(
    tmp_path: Path, postgres_server: str, http: httpx.AsyncClient
) -> None:
    urls = await fresh_databases(postgres_server, ("identity", "notifier", "audit"))
    try:
        async with running_system(
            tmp_path / "data",
            tmp_path / "stack.log",
            BEHIND_A_PROXY,  # and telemetry to the console, as `make run`
            settings={f"{name}_database_url": url for name, url in urls.items()},
        ) as system:
            clients = Clients.of(http, system)
            person = Person.new("edsger", ip="203.0.113.22")

            user_id = await walk_the_journey(clients, person)

            await then_the_audit_tells_the_journey(clients, person, user_id)
    finally:
        await drop_databases(postgres_server, urls)


async def fresh_databases(server: str, names: tuple[str, ...]) -> dict[str, str]:
    suffix = secrets.token_hex(6)
    admin = await asyncpg.connect(server)
    try:
        for name in names:
            await admin.execute(f'CREATE DATABASE "e2e_{name}_{suffix}"')
    finally:
        await admin.close()
    base = server.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return {name: f"{base}/e2e_{name}_{suffix}" for name in names}


async def drop_databases(server: str, urls: dict[str, str]) -> None:
    admin = await asyncpg.connect(server)
    try:
        for url in urls.values():
            name = url.rsplit("/", 1)[1]
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
