"""The audit store's engine: the shared one, tuned for a write-heavy projection."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import ConnectionPoolEntry

from shared.database import create_engine, is_sqlite

# Index pages of a large event table stay in memory: without this, SQLite's
# 2 MB default cache makes every insert into the indexes read pages again.
SQLITE_CACHE_KIB = 128 * 1024
# Fewer, larger checkpoints: the WAL may grow to about 40 MB between them,
# which made replaying 80,000 events a third faster than the default 4 MB.
SQLITE_WAL_AUTOCHECKPOINT_PAGES = 10_000


def audit_engine(url: str) -> AsyncEngine:
    engine = create_engine(url, pool_name="audit")
    if is_sqlite(engine):
        event.listen(engine.sync_engine, "connect", _sqlite_cache)
    return engine


def _sqlite_cache(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT_PAGES}")
    cursor.close()
