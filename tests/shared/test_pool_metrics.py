"""Pool exhaustion shows in the metrics before anything times out."""

import asyncio
from typing import Any

from sqlalchemy import text

from shared.database import create_engine
from tests.telemetry_capture import TelemetryCapture


async def test_a_saturated_pool_shows_waiting_requests_and_wait_times(
    telemetry: TelemetryCapture, postgres_url: str
) -> None:
    engine = create_engine(
        postgres_url, pool_size=2, max_overflow=0, pool_name="saturated"
    )

    async def slow_query() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT pg_sleep(0.6)"))

    def of_this_pool(points: list[Any]) -> list[Any]:
        return [
            p
            for p in points
            if p.attributes.get("db.client.connection.pool.name") == "saturated"
        ]

    queries = [asyncio.create_task(slow_query()) for _ in range(4)]
    await asyncio.sleep(0.3)
    pending = of_this_pool(
        telemetry.metric_points("db.client.connection.pending_requests")
    )
    used = of_this_pool(telemetry.metric_points("db.client.connection.count"))
    await asyncio.gather(*queries)
    waits = of_this_pool(telemetry.metric_points("db.client.connection.wait_time"))
    await engine.dispose()

    assert sum(p.value for p in pending) == 2
    in_use = [
        p.value for p in used if p.attributes["db.client.connection.state"] == "used"
    ]
    assert in_use == [2]
    assert sum(p.count for p in waits) >= 4
    assert max(p.max for p in waits) >= 0.5  # two queries waited for a whole query
