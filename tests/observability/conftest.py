"""One journey through the whole system, its telemetry exported over OTLP.

The stack runs once for the observability tests: a journey through it, then
a graceful stop, which makes every service flush what it still buffered.
The tests read what the receiver got and what reached the console.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from tests.observability.journey import Journey, JourneyRunner
from tests.observability.observed_stack import ObservedStack, observed_stack
from tests.otlp_receiver import OtlpReceiver


@dataclass(frozen=True)
class Observed:
    receiver: OtlpReceiver
    journey: Journey
    stack: ObservedStack


@pytest.fixture(scope="session")
async def observed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Observed]:
    receiver = OtlpReceiver().start()
    folder = tmp_path_factory.mktemp("observed")
    try:
        async with observed_stack(folder, receiver) as stack:
            async with httpx.AsyncClient(timeout=30, trust_env=False) as http:
                journey = await JourneyRunner(http, stack.settings).run()
            await stack.stack.stop()
        yield Observed(receiver, journey, stack)
    finally:
        receiver.stop()
