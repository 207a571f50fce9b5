"""Use case: rebuild the projection from the topics, from their very start.

The projection tables are emptied and refilled in ONE transaction, so nobody
sees a half-built projection. The topics are read
without a consumer group (assign and seek to the beginning) up to the end
of each partition found at the start; the live consumer keeps its offsets and
goes on. That end is the higher of the listed end offset and the stable offset
that the partition's first fetch reports: the embedded broker lists the number
of batches, not of records, as a partition's end offset.
Malformed messages are skipped: the live consumer has dead-lettered them.

Unlike the live consumer, a rebuild knows it starts from empty tables: events
go in as they come (a repeated event id is skipped in memory), while minute
counts and account states are folded in memory and written once at the end.
The event table's secondary indexes are dropped for the load and built again
before the commit, which is about twice as fast as keeping them up to date
row by row. On PostgreSQL that locks ``audit_events`` until the commit:
queries of it wait for the rebuild (SQLite readers go on reading the old
projection).
"""

import logging
import time
from dataclasses import dataclass
from uuid import UUID

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord
from sqlalchemy import Connection, delete
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.adapters.bulk_rows import BulkRows
from audit.adapters.projection_store import (
    AccountFold,
    MinuteBuckets,
    add_counts,
    insert_events,
    write_accounts,
)
from audit.adapters.tables import PROJECTION_TABLES, events
from audit.domain.audit_event import AuditEvent
from audit.projection import audit_event
from shared.events import EnvelopeError
from shared.settings import KafkaSettings

logger = logging.getLogger(__name__)

READ_BATCH = 2000
WRITE_BATCH = 5000


class RebuildStalled(RuntimeError):
    """The topics stopped delivering before their end offsets were reached."""


@dataclass(frozen=True)
class RebuildReport:
    messages: int
    projected: int
    malformed: int
    seconds: float


class _Replay:
    """What one rebuild has read and folded so far."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.bulk = BulkRows(conn)
        self.seen: set[UUID] = set()
        self.pending: list[AuditEvent] = []
        self.buckets = MinuteBuckets()
        self.accounts = AccountFold()
        self.messages = self.projected = self.malformed = 0

    def read(self, event: AuditEvent | None) -> None:
        """Count one message; ``None`` for a malformed one."""
        self.messages += 1
        if event is None:
            self.malformed += 1
        elif event.event_id not in self.seen:
            self.seen.add(event.event_id)
            self.pending.append(event)

    async def flush(self) -> None:
        if not self.pending:
            return
        # A live consumer may have stored one of these meanwhile: skip it.
        await insert_events(self.bulk, self.pending, skip_stored=True)
        self.buckets.add(self.pending)
        self.accounts.add(self.pending)
        self.projected += len(self.pending)
        self.pending = []


async def rebuild(
    settings: KafkaSettings,
    topics: tuple[str, ...],
    engine: AsyncEngine,
    idle_timeout_s: float = 30.0,
) -> RebuildReport:
    started = time.monotonic()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.kafka_client_id_prefix}-audit-rebuild",
        group_id=None,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_poll_records=READ_BATCH,
    )
    await consumer.start()
    try:
        partitions = await _partitions(consumer, topics)
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = _Ends(await consumer.end_offsets(partitions))
        async with engine.begin() as conn:
            for table in reversed(PROJECTION_TABLES):
                await conn.execute(delete(table))
            await conn.run_sync(_drop_event_indexes)
            replay = _Replay(conn)
            idle_since = time.monotonic()
            while not await end.reached(consumer):
                batch = await consumer.getmany(timeout_ms=1000, max_records=READ_BATCH)
                if not batch:
                    if time.monotonic() - idle_since > idle_timeout_s:
                        raise RebuildStalled(f"no message for {idle_timeout_s} s")
                    continue
                idle_since = time.monotonic()
                for tp, records in batch.items():
                    for record in records:
                        if record.offset < end.of(consumer, tp):
                            replay.read(_decoded(record))
                if len(replay.pending) >= WRITE_BATCH:
                    await replay.flush()
            await replay.flush()
            await add_counts(conn, replay.buckets)
            await write_accounts(replay.bulk, replay.accounts.changed())
            await conn.run_sync(_create_event_indexes)
    finally:
        await consumer.stop()
    report = RebuildReport(
        replay.messages,
        replay.projected,
        replay.malformed,
        round(time.monotonic() - started, 2),
    )
    logger.info("audit.rebuild_finished", extra=report.__dict__)
    return report


def _decoded(record: ConsumerRecord) -> AuditEvent | None:
    try:
        return audit_event(record)
    except EnvelopeError:
        return None


def _drop_event_indexes(conn: Connection) -> None:
    for index in events.indexes:
        index.drop(conn)


def _create_event_indexes(conn: Connection) -> None:
    for index in events.indexes:
        index.create(conn)


async def _partitions(
    consumer: AIOKafkaConsumer, topics: tuple[str, ...]
) -> list[TopicPartition]:
    known = await consumer.topics()
    return [
        TopicPartition(topic, p)
        for topic in topics
        if topic in known
        for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]


class _Ends:
    """Where each partition ended when the rebuild started."""

    def __init__(self, listed: dict[TopicPartition, int]) -> None:
        self._listed = listed
        self._fetched: dict[TopicPartition, int] = {}

    def of(self, consumer: AIOKafkaConsumer, tp: TopicPartition) -> int:
        if tp not in self._fetched:
            stable = consumer.last_stable_offset(tp)
            if stable is None:  # not fetched yet
                return self._listed[tp]
            self._fetched[tp] = max(self._listed[tp], stable)
        return self._fetched[tp]

    async def reached(self, consumer: AIOKafkaConsumer) -> bool:
        for tp in self._listed:
            if await consumer.position(tp) < self.of(consumer, tp):
                return False
        return True
