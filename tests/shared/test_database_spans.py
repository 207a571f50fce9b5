"""Database spans say what ran: operation, table and row count."""

from sqlalchemy import text

from shared.database import create_engine
from shared.instrumentation import instrument_engine
from tests.telemetry_capture import TelemetryCapture


async def test_statements_produce_spans_with_operation_table_and_rows(
    telemetry: TelemetryCapture, database_url: str
) -> None:
    engine = create_engine(database_url)
    instrument_engine(engine)
    instrument_engine(engine)  # a second call must not double the spans
    telemetry.spans.clear()
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE accounts (id INTEGER)"))
        await connection.execute(text("INSERT INTO accounts VALUES (1), (2), (3)"))
        await connection.execute(text("UPDATE accounts SET id = id + 1 WHERE id > 1"))
    await engine.dispose()

    described = [
        (
            attributes["db.operation.name"],
            attributes.get("db.collection.name"),
            attributes.get("db.response.returned_rows"),
        )
        for span in telemetry.finished_spans()
        if "db.operation.name" in (attributes := dict(span.attributes or {}))
    ]
    assert ("INSERT", "accounts", 3) in described
    assert ("UPDATE", "accounts", 2) in described
    assert len([d for d in described if d[0] == "UPDATE"]) == 1
