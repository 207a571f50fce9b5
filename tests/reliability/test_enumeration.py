"""Nothing tells whether an address is registered: not the answer, nor its time.

For registration, login, resend and forgot, a registered and an unregistered
address get the same status, body and headers, and their median response
times over 50 interleaved tries each differ by less than 10 %. This is a
statistical assertion about a security property, not a speed goal: the work
done must be the same, so argon2 runs with its real parameters (the equal
hashing is the point for login and registration).
"""

import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from identity.cli import MIGRATIONS
from shared import database
from tests.identity.conftest import PASSWORD, Identity, running, settings_for

TRIES = 50
TOLERANCE = 0.10
WRONG = "wrong horse battery"

Attempt = Callable[[int], Awaitable[httpx.Response]]


@dataclass
class Timed:
    answers: list[httpx.Response]
    seconds: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


@pytest.fixture
async def real_hashing(postgres_url: str, tmp_path: Path) -> AsyncIterator[Identity]:
    """The service with argon2's defaults (19 MiB, 2 passes); no lockout in the
    way of 50 failures on one address (the lockout is the same for both)."""
    settings = settings_for(
        postgres_url,
        tmp_path / "data",
        argon2_memory_kib=19456,
        argon2_time_cost=2,
        argon2_parallelism=1,
        hashing_workers=None,
        lockout_threshold=1000,
    )
    await database.upgrade(MIGRATIONS, postgres_url)
    async with running(settings) as service:
        yield service


ROUNDS = 3


async def _interleaved(known: Attempt, unknown: Attempt) -> tuple[Timed, Timed]:
    """Alternate the two, so load on the machine falls on both alike.

    A round of ``TRIES`` each is measured again, up to ``ROUNDS`` times, when
    the medians differ by the tolerance or more: a leak shows in every round,
    while a burst of load from elsewhere on a shared machine does not.
    """
    for round_ in range(ROUNDS):
        timed = await _one_round(known, unknown, first=round_ * (TRIES + 2))
        if _ratio(*timed) < TOLERANCE:
            break
    return timed


async def _one_round(
    known: Attempt, unknown: Attempt, first: int
) -> tuple[Timed, Timed]:
    timed = (Timed([], []), Timed([], []))
    for n in range(first, first + 2):  # warm-up: imports and caches
        await known(n)
        await unknown(n)
    for n in range(first + 2, first + 2 + TRIES):
        order = (0, 1) if n % 2 == 0 else (1, 0)
        for side in order:
            started = time.perf_counter()
            answer = await (known, unknown)[side](n)
            timed[side].seconds.append(time.perf_counter() - started)
            timed[side].answers.append(answer)
    return timed


def _ratio(known: Timed, unknown: Timed) -> float:
    return abs(known.median - unknown.median) / min(known.median, unknown.median)


def _assert_indistinguishable(known: Timed, unknown: Timed) -> None:
    first = known.answers[0]
    for answer in known.answers + unknown.answers:
        assert answer.status_code == first.status_code, answer.text
        assert answer.content == first.content
        assert dict(answer.headers) == dict(first.headers)
    assert _ratio(known, unknown) < TOLERANCE, (
        f"median {known.median * 1000:.1f} ms for a registered address, "
        f"{unknown.median * 1000:.1f} ms for an unregistered one"
    )


async def test_registration(real_hashing: Identity) -> None:
    identity = real_hashing
    await identity.register("taken@example.com")
    run = uuid.uuid4().hex[:6]

    async def taken(_: int) -> httpx.Response:
        return await identity.register("taken@example.com")

    async def fresh(n: int) -> httpx.Response:
        return await identity.register(f"new-{run}-{n + 2}@example.com")

    known, unknown = await _interleaved(taken, fresh)

    assert known.answers[0].status_code == 202
    _assert_indistinguishable(known, unknown)


async def test_login(real_hashing: Identity) -> None:
    identity = real_hashing
    await identity.register_verified("ada@example.com")

    async def registered(_: int) -> httpx.Response:
        return await identity.log_in("ada@example.com", WRONG)

    async def unregistered(_: int) -> httpx.Response:
        return await identity.log_in("nobody@example.com", WRONG)

    known, unknown = await _interleaved(registered, unregistered)

    assert known.answers[0].status_code == 401
    _assert_indistinguishable(known, unknown)
    assert (await identity.log_in("ada@example.com", PASSWORD)).status_code == 200


async def test_resend(real_hashing: Identity) -> None:
    identity = real_hashing
    await identity.register("pending@example.com")

    async def registered(_: int) -> httpx.Response:
        return await identity.http.post(
            "/v1/users/verification/resend", json={"email": "pending@example.com"}
        )

    async def unregistered(_: int) -> httpx.Response:
        return await identity.http.post(
            "/v1/users/verification/resend", json={"email": "nobody@example.com"}
        )

    known, unknown = await _interleaved(registered, unregistered)

    assert known.answers[0].status_code == 202
    _assert_indistinguishable(known, unknown)


async def test_forgot(real_hashing: Identity) -> None:
    identity = real_hashing
    await identity.register_verified("ada@example.com")

    async def registered(_: int) -> httpx.Response:
        return await identity.http.post(
            "/v1/password/forgot", json={"email": "ada@example.com"}
        )

    async def unregistered(_: int) -> httpx.Response:
        return await identity.http.post(
            "/v1/password/forgot", json={"email": "nobody@example.com"}
        )

    known, unknown = await _interleaved(registered, unregistered)

    assert known.answers[0].status_code == 202
    _assert_indistinguishable(known, unknown)
