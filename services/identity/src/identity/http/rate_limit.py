"""A per-client token bucket in front of the auth endpoints.

Each process keeps its own buckets, bounded in number (least recently seen
clients are forgotten first); behind several replicas the effective limit is
per replica.
"""

import math
import time
from collections import OrderedDict
from collections.abc import Callable

from identity.domain.errors import IdentityError

MAX_CLIENTS = 100_000


class RateLimited(IdentityError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


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
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, client: str | None) -> None:
        """Spend one request of ``client``'s budget or raise :class:`RateLimited`."""
        if not self._enabled:
            return
        key = client or "unknown"
        now = self._clock()
        tokens, last = self._buckets.pop(key, (self._burst, now))
        tokens = min(self._burst, tokens + (now - last) * self._rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            self._forget_oldest()
            return
        self._buckets[key] = (tokens, now)
        raise RateLimited(max(1, math.ceil((1 - tokens) / self._rate)))

    def _forget_oldest(self) -> None:
        while len(self._buckets) > MAX_CLIENTS:
            self._buckets.popitem(last=False)
