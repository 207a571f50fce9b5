"""A per-client token bucket in front of the auth endpoints.

Each process keeps its own buckets, bounded in number (least recently seen
clients are forgotten first); behind several replicas the effective limit is
per replica.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from identity.domain.errors import IdentityError

MAX_CLIENTS = 100_000


REPORT_EVERY = 1.0
"""Seconds between two refusals of one client worth recording as an event: a
flood of refused requests must not become a flood of database writes."""


class RateLimited(IdentityError):
    def __init__(self, retry_after: int, *, worth_recording: bool = True) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after
        self.worth_recording = worth_recording


class _Bucket(NamedTuple):
    tokens: float
    updated: float
    reported: float


class RateLimiter:
    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._enabled = enabled
        self._clock = clock
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, client: str | None) -> None:
        """Spend one request of ``client``'s budget or raise :class:`RateLimited`."""
        if not self._enabled:
            return
        key = client or "unknown"
        now = self._clock()
        bucket = self._buckets.pop(key, None) or _Bucket(
            self._burst, now, -REPORT_EVERY
        )
        tokens = min(self._burst, bucket.tokens + (now - bucket.updated) * self._rate)
        if tokens >= 1:
            self._buckets[key] = _Bucket(tokens - 1, now, bucket.reported)
            self._forget_oldest()
            return
        worth_recording = now - bucket.reported >= REPORT_EVERY
        reported = now if worth_recording else bucket.reported
        self._buckets[key] = _Bucket(tokens, now, reported)
        retry_after = max(1, math.ceil((1 - tokens) / self._rate))
        raise RateLimited(retry_after, worth_recording=worth_recording)

    def _forget_oldest(self) -> None:
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
