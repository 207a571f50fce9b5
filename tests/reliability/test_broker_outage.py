"""The broker away for 30 seconds under steady traffic: nothing lost, nothing twice.

Identity (with its outbox relay) and audit (with its consumer group) run in
process against a broker of this test alone, which is frozen (SIGSTOP) for
30 s while sign-ups and logins keep arriving, as a network partition or a
stalled broker would take it away: connections hang, nothing answers, its
data stays. The API answers throughout; the outbox drains; every event
identity recorded is in the audit store exactly once.

A broker restarted empty (the memory-only broker's restart) is the e2e
suite's: tests/e2e/test_faults.py::test_a_broker_restart_loses_nothing_the_outbox_holds.
"""

import asyncio
import os
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import func, select

from audit.adapters.tables import events as audit_events
from devstack.broker import EmbeddedBroker
from devstack.soak import listening_pid
from identity.cli import MIGRATIONS
from shared import database
from shared.settings import KafkaSettings
from tests.audit.conftest import migrated_store, running_audit
from tests.identity.conftest import running, settings_for, with_broker
from tests.identity.kafka_reading import eventually, pending_rows

OUTAGE_SECONDS = 30.0
RATE = 4.0  # requests per second during the whole run

FAST_RELAY = {
    "relay_enabled": True,
    "relay_poll_seconds": 0.2,
    "relay_send_timeout_seconds": 2.0,
    "relay_max_backoff_seconds": 1.0,
    "relay_lease_seconds": 5.0,
}


async def test_thirty_seconds_without_the_broker_lose_and_repeat_nothing(
    own_broker: EmbeddedBroker,
    kafka_settings: KafkaSettings,
    sqlite_url: str,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    kafka = kafka_settings.model_copy(
        update={"kafka_bootstrap_servers": own_broker.bootstrap_servers}
    )
    identity_settings = with_broker(
        settings_for(sqlite_url, tmp_path / "data"), kafka, **FAST_RELAY
    )
    await database.upgrade(MIGRATIONS, sqlite_url)
    async with (
        running(identity_settings) as identity,
        running_audit(
            kafka, postgres_url, AUDIT_ALERT_EVALUATION_INTERVAL_S=3600
        ) as audit,
    ):
        statuses: Counter[int] = Counter()
        stop_traffic = asyncio.Event()

        async def steady_traffic() -> None:
            n = 0
            while not stop_traffic.is_set():
                n += 1
                email = f"user{n}@example.com"
                for answer in (
                    await identity.register(email),
                    await identity.log_in(email),  # 403: not verified yet
                ):
                    statuses[answer.status_code] += 1
                await asyncio.sleep(2 / RATE)

        traffic = asyncio.create_task(steady_traffic())
        await asyncio.sleep(3)
        broker_pid = listening_pid(own_broker.port)
        assert broker_pid is not None
        os.kill(broker_pid, signal.SIGSTOP)
        try:
            went_away = time.monotonic()
            ready_during = []
            while time.monotonic() - went_away < OUTAGE_SECONDS:
                ready = await identity.http.get("/readyz")
                ready_during.append(ready.status_code)
                await asyncio.sleep(5)
            pending_during = await pending_rows(identity.app.state.engine)
        finally:
            os.kill(broker_pid, signal.SIGCONT)
        await asyncio.sleep(3)
        stop_traffic.set()
        await traffic

        recorded = {str(e.event_id) for e in await identity.envelopes()}

        async def drained() -> bool:
            return await pending_rows(identity.app.state.engine) == 0

        await eventually(drained, 60, "the outbox drained")

        async def all_audited() -> bool:
            return recorded <= await _stored_ids(audit.client)

        await eventually(all_audited, 90, f"{len(recorded)} events audited")
        async with migrated_store(postgres_url) as store:
            rows = await store.count(audit_events)
            async with store.engine.connect() as conn:
                distinct = await conn.scalar(
                    select(func.count(func.distinct(audit_events.c.event_id)))
                )

    assert set(statuses) == {202, 403}, statuses  # answered throughout, no 5xx
    assert statuses[202] >= 30  # sign-ups kept coming in during the outage
    assert 503 in ready_during  # readiness said the broker was away
    assert pending_during > 0  # events piled up in the outbox meanwhile
    assert rows == distinct == len(recorded)  # each event stored exactly once


async def _stored_ids(client: httpx.AsyncClient) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        params = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/v1/events", params=params)).json()
        ids.update(item["event_id"] for item in page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return ids
