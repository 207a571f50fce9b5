"""Answers that must not tell which branch ran take one uniform time.

Resend and forgot answer 202 for every address, but a registered address
costs more work (a token, its row, the user's stream) than an unknown one,
a few milliseconds that a patient caller can measure. Each successful answer
is held until ``seconds`` have passed since the work began, so both branches
answer alike while the work stays under that time.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def uniform_time(seconds: float) -> AsyncIterator[None]:
    started = time.monotonic()
    yield
    # Only on success: a refusal (422, 503) does not depend on the address.
    remaining = seconds - (time.monotonic() - started)
    if remaining > 0:
        await asyncio.sleep(remaining)
