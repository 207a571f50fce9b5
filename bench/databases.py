"""The databases a benchmark runs on: SQLite files, PostgreSQL where it answers."""

import contextlib
import uuid
from pathlib import Path

import asyncpg

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


async def postgres_version(dsn: str) -> str | None:
    """The server's version, or None when nobody answers at ``dsn``."""
    try:
        connection = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return None
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


class Databases:
    """Hands out fresh databases and drops the PostgreSQL ones at the end."""

    def __init__(self, work_dir: Path, postgres_dsn: str | None) -> None:
        self._work_dir = work_dir
        self._dsn = postgres_dsn
        self._created: list[str] = []

    @property
    def kinds(self) -> list[str]:
        return ["sqlite", "postgresql"] if self._dsn else ["sqlite"]

    async def url(self, kind: str, name: str) -> str:
        if kind == "sqlite":
            return self.sqlite(name)
        return await self.postgres(name)

    def sqlite(self, name: str) -> str:
        path = self._work_dir / "db" / f"{name}-{uuid.uuid4().hex[:6]}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{path}"

    async def postgres(self, name: str) -> str:
        assert self._dsn is not None
        database = f"bench_{name}_{uuid.uuid4().hex[:8]}".replace("-", "_")
        admin = await asyncpg.connect(self._dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{database}"')
        finally:
            await admin.close()
        self._created.append(database)
        base = self._dsn.rsplit("/", 1)[0].replace("postgresql://", "")
        return f"postgresql+asyncpg://{base}/{database}"

    async def drop_all(self) -> None:
        if not self._created or self._dsn is None:
            return
        admin = await asyncpg.connect(self._dsn)
        try:
            for database in self._created:
                with contextlib.suppress(asyncpg.PostgresError):
                    await admin.execute(
                        f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'
                    )
        finally:
            await admin.close()
        self._created.clear()


def plain_url(url: str) -> str:
    """A SQLAlchemy async URL as a driver-less one the peer or psql can take."""
    return url.replace("+asyncpg", "").replace("+aiosqlite", "")
