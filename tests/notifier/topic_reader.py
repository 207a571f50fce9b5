"""Reads a whole topic without joining a group (assign, from the beginning)."""

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from shared.events import EventEnvelope, decode_envelope
from shared.settings import KafkaSettings


class TopicReader:
    def __init__(self, settings: KafkaSettings, topic: str) -> None:
        self.records: list[ConsumerRecord] = []
        self._topic = topic
        self._partitions = settings.topic_partitions
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    async def __aenter__(self) -> Self:
        await self._consumer.start()
        partitions = [TopicPartition(self._topic, p) for p in range(self._partitions)]
        self._consumer.assign(partitions)
        await self._consumer.seek_to_beginning(*partitions)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._consumer.stop()

    async def wait_for(
        self,
        satisfied: Callable[[list[ConsumerRecord]], bool],
        timeout: float = 20.0,
    ) -> list[ConsumerRecord]:
        """Read on until ``satisfied(records)``; fail after ``timeout`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not satisfied(self.records):
            if loop.time() > deadline:
                raise AssertionError(
                    f"{self._topic}: condition not met with {len(self.records)} records"
                )
            batch = await self._consumer.getmany(timeout_ms=200)
            for records in batch.values():
                self.records.extend(records)
        return self.records

    def envelopes(self) -> list[EventEnvelope]:
        return [decode_envelope(r.value) for r in self.records]
