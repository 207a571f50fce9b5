"""One writing transaction at a time per process on SQLite.

SQLite has a single writer anyway. Letting many connections of one process
queue on its file lock instead stalled the whole process: under 20 concurrent
logins the event loop starved until the 30 s busy timeout ran out (seen with
aiosqlite and a pooled engine). Queueing on an asyncio lock first keeps at
most one connection of the process in SQLite's busy wait. On PostgreSQL the
gate is open and the database orders writers itself.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncEngine


class WriteGate:
    def __init__(self, engine: AsyncEngine) -> None:
        self._lock = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        if self._lock is None:
            yield
            return
        async with self._lock:
            yield
