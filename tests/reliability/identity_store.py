"""Everything identity stored, as text a test can search for harm."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from identity.adapters.tables import metadata

# A control character as it would sit in a column, raw or JSON-escaped.
CONTROL_TRACES = ("\r", "\n", "\x00", "\u2028", "\\r", "\\n", "\\u0000", "\\u2028")


async def stored_text(engine: AsyncEngine) -> str:
    """Every value of every identity table (events, outbox, read models)."""
    values: list[str] = []
    async with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                values.extend(_text(value) for value in row)
    return " | ".join(values)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
