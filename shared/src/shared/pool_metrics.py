"""Connection pool metrics: the failure this product must make obvious.

A pool that runs dry shows up as requests waiting for a connection long before
anything times out. :class:`ObservedQueuePool` counts those waiting requests and
records how long each checkout waited, next to gauges of used, idle and
overflow connections, named after the OpenTelemetry database client metrics.
"""

import time
import weakref
from collections.abc import Iterable
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation
from sqlalchemy import exc
from sqlalchemy.pool import AsyncAdaptedQueuePool, ConnectionPoolEntry

_meter = metrics.get_meter("shared.pool_metrics")
_pools: "weakref.WeakSet[ObservedQueuePool]" = weakref.WeakSet()

POOL_ATTRIBUTE = "db.client.connection.pool.name"


def _observe_counts(_: CallbackOptions) -> Iterable[Observation]:
    for pool in list(_pools):
        name = {POOL_ATTRIBUTE: pool.pool_name}
        yield Observation(
            pool.checkedout(), {**name, "db.client.connection.state": "used"}
        )
        yield Observation(
            pool.checkedin(), {**name, "db.client.connection.state": "idle"}
        )


def _observe_overflow(_: CallbackOptions) -> Iterable[Observation]:
    for pool in list(_pools):
        yield Observation(max(pool.overflow(), 0), {POOL_ATTRIBUTE: pool.pool_name})


def _observe_max(_: CallbackOptions) -> Iterable[Observation]:
    for pool in list(_pools):
        yield Observation(
            pool.size() + max(pool._max_overflow, 0), {POOL_ATTRIBUTE: pool.pool_name}
        )


_meter.create_observable_up_down_counter(
    "db.client.connection.count",
    [_observe_counts],
    unit="{connection}",
    description="Connections of the pool by state (used, idle)",
)
_meter.create_observable_up_down_counter(
    "db.client.connection.overflow",
    [_observe_overflow],
    unit="{connection}",
    description="Connections opened beyond the pool size",
)
_meter.create_observable_up_down_counter(
    "db.client.connection.max",
    [_observe_max],
    unit="{connection}",
    description="Most connections the pool may open (size + overflow)",
)
_pending = _meter.create_up_down_counter(
    "db.client.connection.pending_requests",
    unit="{request}",
    description="Requests waiting for a connection from the pool",
)
_wait_time = _meter.create_histogram(
    "db.client.connection.wait_time",
    unit="s",
    description="Time a request waited for a connection from the pool",
    explicit_bucket_boundaries_advisory=[
        0.0005,
        0.001,
        0.005,
        0.01,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        30,
    ],
)
_timeouts = _meter.create_counter(
    "db.client.connection.timeouts",
    unit="{timeout}",
    description="Checkouts that gave up waiting for a connection",
)


class ObservedQueuePool(AsyncAdaptedQueuePool):
    """The asyncio queue pool, measured; name it with :func:`name_pool`."""

    pool_name = "default"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _pools.add(self)

    def _do_get(self) -> ConnectionPoolEntry:
        attributes = {POOL_ATTRIBUTE: self.pool_name}
        _pending.add(1, attributes)
        started = time.perf_counter()
        try:
            return super()._do_get()
        except exc.TimeoutError:
            _timeouts.add(1, attributes)
            raise
        finally:
            _pending.add(-1, attributes)
            _wait_time.record(time.perf_counter() - started, attributes)

    def recreate(self) -> "ObservedQueuePool":
        pool = super().recreate()
        assert isinstance(pool, ObservedQueuePool)
        pool.pool_name = self.pool_name
        return pool


def name_pool(pool: Any, name: str) -> None:
    if isinstance(pool, ObservedQueuePool):
        pool.pool_name = name
        # The series exists before the first timeout, so a rate over it is zero.
        _timeouts.add(0, {POOL_ATTRIBUTE: name})
