"""Fixtures of the end-to-end tests: whole systems of separate processes."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.clients import Clients
from tests.e2e.otlp_http import OtlpHttpReceiver
from tests.e2e.system import RunningSystem, running_system

BEHIND_A_PROXY = {"IDENTITY_TRUSTED_PROXIES": "127.0.0.1"}
"""Tests send X-Forwarded-For, as a load balancer would: each test's users
have their own addresses (and rate-limit budgets), and the audit rows show them."""


SHORT_RATE_LIMIT_WAITS = {"IDENTITY_RATE_LIMIT_PER_MINUTE": "600"}
"""The default burst, refilled ten times faster: a client that hits the limit
waits about a second, not a minute."""


def exporting_to(receiver: OtlpHttpReceiver) -> dict[str, str]:
    """Telemetry over OTLP/HTTP to ``receiver``, spans within 0.2 s."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_METRIC_EXPORT_INTERVAL": "60000",
    }


@pytest.fixture(scope="module")
async def otlp() -> AsyncIterator[OtlpHttpReceiver]:
    receiver = OtlpHttpReceiver()
    await receiver.start()
    yield receiver
    await receiver.stop()


@pytest.fixture(scope="module")
async def system(
    tmp_path_factory: pytest.TempPathFactory, otlp: OtlpHttpReceiver
) -> AsyncIterator[RunningSystem]:
    """One system on SQLite for every test of a module that kills nothing,
    exporting its telemetry over OTLP to ``otlp``."""
    folder = tmp_path_factory.mktemp("system")
    async with running_system(
        folder / "data",
        folder / "stack.log",
        BEHIND_A_PROXY | SHORT_RATE_LIMIT_WAITS | exporting_to(otlp),
    ) as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30, trust_env=False) as client:
        yield client


@pytest.fixture
def clients(http: httpx.AsyncClient, system: RunningSystem) -> Clients:
    return Clients.of(http, system)
