"""LOG_LEVEL=DEBUG shows more of the services, never the values of statements."""

import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from shared.database import create_engine
from shared.telemetry import configure_logging


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()}")


@pytest.fixture
def debug_logs() -> Iterator[Captured]:
    root = logging.getLogger()
    before = (root.level, list(root.handlers))
    captured = Captured()
    handlers = configure_logging("DEBUG", otel=False)
    root.addHandler(captured)
    try:
        yield captured
    finally:
        for handler in [*handlers, captured]:
            root.removeHandler(handler)
        root.setLevel(before[0])


async def test_statements_values_stay_out_of_debug_logs(
    debug_logs: Captured, database_url: str
) -> None:
    secret = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE streams (data TEXT)"))
        await connection.execute(
            text("INSERT INTO streams VALUES (:data)"), {"data": secret}
        )
    await engine.dispose()
    logging.getLogger("identity.test").debug("a debug line of the service")

    assert "identity.test a debug line of the service" in debug_logs.lines
    assert not [line for line in debug_logs.lines if secret in line]
