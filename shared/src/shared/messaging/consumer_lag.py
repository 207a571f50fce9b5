"""Consumer lag per group and partition: how far the group is behind.

The lag of a partition is its end offset minus the group's committed offset,
what Kafka's own tooling reports. A :class:`LagSampler` asks the broker
through the consumer it belongs to (``end_offsets``, ``committed``) every few
seconds, from the consumer's own loop; the ``messaging.kafka.consumer.lag``
gauge reports the latest sample of every live sampler. (The admin client's
group offsets request is not used: the embedded broker drops the connection.)
The end is the higher of the listed end offset and the stable offset the
consumer's last fetch reported: the embedded broker lists the number of
batches, not of records, as a partition's end offset.
"""

import asyncio
import logging
import time
import weakref
from collections.abc import Iterable, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import IllegalOperation, KafkaError
from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

logger = logging.getLogger(__name__)

SAMPLE_EVERY_SECONDS = 5.0
# A sample must never hold up the loop it runs in for long.
SAMPLE_TIMEOUT_SECONDS = 2.0
POSITION_TIMEOUT_SECONDS = 1.0

_samplers: "weakref.WeakSet[LagSampler]" = weakref.WeakSet()


def _observe(_: CallbackOptions) -> Iterable[Observation]:
    for sampler in list(_samplers):
        for tp, lag in list(sampler.lag.items()):
            yield Observation(
                lag,
                {"group": sampler.group, "topic": tp.topic, "partition": tp.partition},
            )


metrics.get_meter("shared.messaging").create_observable_gauge(
    "messaging.kafka.consumer.lag",
    [_observe],
    unit="{message}",
    description="Messages between the group's committed offset and the partition end",
)


class LagSampler:
    """The lag of the partitions assigned to one consumer of ``group``."""

    def __init__(
        self,
        consumer: AIOKafkaConsumer,
        group: str,
        *,
        every_seconds: float = SAMPLE_EVERY_SECONDS,
    ) -> None:
        self._consumer = consumer
        self.group = group
        self._every = every_seconds
        self._due = 0.0
        self.lag: dict[TopicPartition, int] = {}
        _samplers.add(self)

    async def maybe_sample(self, committed: Mapping[TopicPartition, int]) -> None:
        """Sample when one is due; ``committed`` holds the offsets the loop
        committed itself, the broker is asked for the others."""
        if time.monotonic() < self._due:
            return
        self._due = time.monotonic() + self._every
        try:
            self.lag = await asyncio.wait_for(
                self._sample(committed), SAMPLE_TIMEOUT_SECONDS
            )
        except (KafkaError, IllegalOperation, OSError, TimeoutError) as exc:
            # The next round tries again; the gauge keeps the last sample.
            logger.debug(
                "kafka.lag_not_sampled",
                extra={"group": self.group, "error": type(exc).__name__},
            )

    def forget(self, partitions: Iterable[TopicPartition]) -> None:
        """Partitions another member now reports."""
        for tp in partitions:
            self.lag.pop(tp, None)

    def close(self) -> None:
        self.lag = {}
        _samplers.discard(self)

    async def _sample(
        self, committed: Mapping[TopicPartition, int]
    ) -> dict[TopicPartition, int]:
        assigned = list(self._consumer.assignment())
        if not assigned:
            return {}
        ends: dict[TopicPartition, int] = await self._consumer.end_offsets(assigned)
        lag = {}
        for tp in assigned:
            done = committed.get(tp)
            if done is None:
                done = await self._broker_committed(tp)
            if done is not None and tp in ends:
                lag[tp] = max(self._end(tp, ends[tp]) - done, 0)
        return lag

    def _end(self, tp: TopicPartition, listed: int) -> int:
        fetched = self._consumer.last_stable_offset(tp)
        if fetched is None:
            fetched = self._consumer.highwater(tp)
        return max(listed, fetched or 0)

    async def _broker_committed(self, tp: TopicPartition) -> int | None:
        """The group's committed offset, else where the consumer starts reading
        (a group that never committed is behind by everything it will read)."""
        offset: int | None = await self._consumer.committed(tp)
        if offset is not None:
            return offset
        try:
            position: int = await asyncio.wait_for(
                self._consumer.position(tp), POSITION_TIMEOUT_SECONDS
            )
        except TimeoutError:
            return None
        return position
