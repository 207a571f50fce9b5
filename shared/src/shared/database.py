"""Async SQLAlchemy engines for SQLite and PostgreSQL, and Alembic upgrades."""

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, MetaData, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from shared.pool_metrics import ObservedQueuePool, name_pool


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    pool_timeout: float = 10.0,
    echo: bool = False,
    pool_name: str | None = None,
) -> AsyncEngine:
    """An engine with the pool bounded and measured; for SQLite, WAL and a busy
    timeout. ``pool_name`` labels the pool metrics (default: the database name).
    """
    parsed = make_url(url)
    options: dict[str, Any] = {
        "echo": echo,
        "pool_pre_ping": True,
        "poolclass": ObservedQueuePool,
        # An error names its statement, never its values: they can be secrets
        # (a password hash in an event) and errors end up in spans and logs.
        "hide_parameters": True,
    }
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        options["connect_args"] = {"timeout": 30}
    else:
        options.update(
            pool_size=pool_size, max_overflow=max_overflow, pool_timeout=pool_timeout
        )
    engine = create_async_engine(parsed, **options)
    name_pool(engine.pool, pool_name or Path(parsed.database or "db").stem)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def alembic_config(script_location: Path, url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def upgrade(script_location: Path, url: str, revision: str = "head") -> None:
    """Run ``alembic upgrade`` for one service's migrations, off the event loop."""
    config = alembic_config(script_location, url)
    await asyncio.to_thread(command.upgrade, config, revision)


def run_alembic_env(metadata: MetaData | None) -> None:
    """The body of every service's ``migrations/env.py`` (online, async)."""
    from alembic import context

    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set for the migrations")

    def migrate(connection: Connection) -> None:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(migrate)
                await connection.commit()
        finally:
            await engine.dispose()

    asyncio.run(run())


async def ping(engine: AsyncEngine) -> None:
    """Raise unless the database answers ``SELECT 1``."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
