"""Waiting for what happens elsewhere: poll with a deadline, never sleep blind.

Shared by the tests that watch other processes, brokers or exporters."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

_POLL = 0.1


async def eventually(
    check: Callable[[], Awaitable[T | None]], within: float, what: str
) -> T:
    """The first truthy answer of ``check``; fails naming ``what`` after
    ``within`` seconds, with the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        answer = await check()
        if answer:
            return answer
        if loop.time() > deadline:
            raise AssertionError(
                f"not within {within:.0f} s: {what} (last: {answer!r})"
            )
        await asyncio.sleep(_POLL)
