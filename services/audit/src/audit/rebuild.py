"""Use case: rebuild the projection from the topics, from their very start.

The projection tables are emptied and refilled in ONE transaction, so readers
see the old projection until the new one is complete. The topics are read
without a consumer group (assign and seek to the beginning) up to the end
offsets found at the start; the live consumer keeps its offsets and goes on.
Malformed messages are skipped: the live consumer has dead-lettered them.
"""

import logging
import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.adapters.projection_store import save_batch
from audit.adapters.tables import PROJECTION_TABLES
from audit.domain.audit_event import AuditEvent
from audit.projection import audit_event
from shared.events import EnvelopeError
from shared.settings import KafkaSettings

logger = logging.getLogger(__name__)

READ_BATCH = 2000


class RebuildStalled(RuntimeError):
    """The topics stopped delivering before their end offsets were reached."""


@dataclass(frozen=True)
class RebuildReport:
    messages: int
    projected: int
    malformed: int
    seconds: float


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
        end = await consumer.end_offsets(partitions)
        async with engine.begin() as conn:
            for table in reversed(PROJECTION_TABLES):
                await conn.execute(delete(table))
            messages = projected = malformed = 0
            idle_since = time.monotonic()
            while not await _reached(consumer, end):
                batch = await consumer.getmany(timeout_ms=1000, max_records=READ_BATCH)
                if not batch:
                    if time.monotonic() - idle_since > idle_timeout_s:
                        raise RebuildStalled(f"no message for {idle_timeout_s} s")
                    continue
                idle_since = time.monotonic()
                decoded: list[AuditEvent] = []
                for tp, records in batch.items():
                    for record in records:
                        if record.offset >= end[tp]:
                            continue
                        messages += 1
                        try:
                            decoded.append(audit_event(record))
                        except EnvelopeError:
                            malformed += 1
                projected += await save_batch(conn, decoded)
    finally:
        await consumer.stop()
    report = RebuildReport(
        messages, projected, malformed, round(time.monotonic() - started, 2)
    )
    logger.info("audit.rebuild_finished", extra=report.__dict__)
    return report


async def _partitions(
    consumer: AIOKafkaConsumer, topics: tuple[str, ...]
) -> list[TopicPartition]:
    known = await consumer.topics()
    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        if topic in known
        for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    return partitions


async def _reached(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    for tp, offset in end.items():
        if await consumer.position(tp) < offset:
            return False
    return True
