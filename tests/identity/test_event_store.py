"""The event store: optimistic appends, read models in step, rebuilt from events."""

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.adapters.event_store import EventStore
from identity.adapters.tables import READ_MODELS, lockouts, metadata, users
from identity.application.context import RequestContext
from identity.application.streams import StreamRef
from identity.domain.emails import normalise_email
from identity.domain.errors import ConcurrencyConflict
from identity.domain.events import EmailVerified, IssuedToken, LoginSucceeded
from identity.domain.user import register
from shared.events import EventType
from tests.identity.conftest import Identity, bearer

WRONG = "wrong horse battery"


@pytest.fixture
async def engine(identity: Identity) -> Any:
    engine: AsyncEngine = identity.app.state.engine
    return engine


async def test_two_writers_deciding_on_the_same_version_conflict(
    engine: AsyncEngine,
) -> None:
    store, now, user_id = EventStore(engine), datetime.now(UTC), uuid4()
    stream = StreamRef.new_user(user_id, "ada@example.com")
    token = IssuedToken("t" * 64, now)
    events = register(user_id, normalise_email("ada@example.com"), "h", token)
    await store.append(
        stream, events, now=now, context=RequestContext(), sealed={"t" * 64: "s"}
    )
    at_one = StreamRef(stream.stream_id, 1, user_id, "ada@example.com")

    first = store.append(
        at_one, [EmailVerified()], now=now, context=RequestContext(), sealed={}
    )
    second = store.append(
        at_one, [LoginSucceeded("j", 0)], now=now, context=RequestContext(), sealed={}
    )
    results = await asyncio.gather(first, second, return_exceptions=True)

    assert sum(isinstance(r, ConcurrencyConflict) for r in results) == 1
    assert [r.stream_version for r in await store.load(str(stream.stream_id))] == [1, 2]


async def _snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    async with engine.connect() as conn:
        return {
            table.name: [
                tuple(row)
                for row in await conn.execute(
                    select(table).order_by(*table.primary_key.columns)
                )
            ]
            for table in READ_MODELS
        }


async def _a_busy_history(identity: Identity) -> None:
    """Every kind of event, on accounts and on an unknown address."""
    await identity.register_verified("ada@example.com")
    await identity.register("bob@example.com")
    await identity.http.post(
        "/v1/users/verification/resend", json={"email": "bob@example.com"}
    )
    await identity.register("ADA@example.com")
    token = await identity.access_token("ada@example.com")
    await identity.http.post("/v1/auth/logout", headers=bearer(token))
    for _ in range(5):
        await identity.log_in("ada@example.com", WRONG)
        await identity.log_in("ghost@example.com", WRONG)
    await identity.log_in("cyd@example.com", WRONG)
    await identity.http.post("/v1/password/forgot", json={"email": "ada@example.com"})
    reset = await identity.token_from(EventType.PASSWORD_RESET_REQUESTED)
    await identity.http.post(
        "/v1/password/reset", json={"token": reset, "new_password": "a new passphrase"}
    )
    token = await identity.access_token("ada@example.com", "a new passphrase")
    await identity.http.post(
        "/v1/password/change",
        json={
            "current_password": "a new passphrase",
            "new_password": "third passphrase",
        },
        headers=bearer(token),
    )
    await identity.http.post("/v1/password/forgot", json={"email": "bob@example.com"})


async def test_rebuilding_the_read_models_from_the_events_gives_identical_tables(
    identity: Identity, engine: AsyncEngine, tmp_path: Path
) -> None:
    await _a_busy_history(identity)
    before = await _snapshot(engine)
    assert all(before.values()), {name: len(rows) for name, rows in before.items()}
    async with engine.begin() as conn:  # damage that only a rebuild repairs
        await conn.execute(delete(lockouts))
        await conn.execute(
            update(users).values(email_verified=False, token_generation=7)
        )

    await asyncio.to_thread(_run_cli, "rebuild-read-models", identity, tmp_path)

    assert await _snapshot(engine) == before


def _run_cli(command: str, identity: Identity, tmp_path: Path) -> None:
    executable = Path(sys.executable).with_name("identity")
    env = {
        **os.environ,
        "IDENTITY_DATABASE_URL": identity.settings.database_url,
        "DATA_DIR": str(tmp_path / "cli-data"),
        "OTEL_SDK_DISABLED": "true",
    }
    done = subprocess.run(
        [str(executable), command],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]


async def test_the_migrations_build_exactly_the_schema_of_the_code(
    engine: AsyncEngine,
) -> None:
    def differences(sync: Connection) -> list[Any]:
        context = MigrationContext.configure(sync)
        return list(compare_metadata(context, metadata))

    async with engine.connect() as conn:
        assert await conn.run_sync(differences) == []
