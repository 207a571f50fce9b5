"""Database spans say what ran: operation, table and row count."""

from opentelemetry import trace
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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


async def test_a_failed_statement_is_reported_without_its_values(
    telemetry: TelemetryCapture, database_url: str
) -> None:
    """A refused insert (a lost race) is an exception on a span and may be
    logged: it names the statement, never the values, which can be secrets
    (an event's password hash)."""
    secret = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
    engine = create_engine(database_url)
    instrument_engine(engine)
    telemetry.spans.clear()
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE streams (id INTEGER PRIMARY KEY, data TEXT)")
        )
    insert = text("INSERT INTO streams VALUES (1, :data)")
    async with engine.begin() as connection:
        await connection.execute(insert, {"data": secret})
    try:
        # as a use case's span does: it records the exception, stack and all
        with trace.get_tracer(__name__).start_as_current_span("append"):
            async with engine.begin() as connection:
                await connection.execute(insert, {"data": secret})
    except IntegrityError as refused:
        error = str(refused)
    await engine.dispose()

    assert "INSERT INTO streams" in error
    assert secret not in error
    recorded = [
        repr((span.attributes, [(e.name, e.attributes) for e in span.events]))
        for span in telemetry.finished_spans()
    ]
    assert any("IntegrityError" in r and "INSERT INTO streams" in r for r in recorded)
    assert not [r for r in recorded if secret in r]
