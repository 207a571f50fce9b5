"""Evenly spaced requests: at most ``rate`` per second over every task."""

import asyncio


class Pacer:
    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = 0.0

    async def wait(self) -> None:
        """Return at this caller's slot; callers are served in arrival order."""
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self._interval
        await asyncio.sleep(slot - now)
