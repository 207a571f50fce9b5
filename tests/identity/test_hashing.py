"""Password hashing: argon2id, re-hashed when outdated, off the loop, same work."""

import asyncio
import os
import sys
import threading
from collections.abc import Iterator

import pytest

from identity.adapters.hashing import Argon2Parameters, PasswordHasher
from identity.settings import IdentitySettings
from shared.events import EventType
from tests.identity.conftest import PASSWORD, Identity, running

WRONG = "wrong horse battery"


async def test_the_defaults_are_argon2id_19_mib_2_passes_1_lane() -> None:
    settings = IdentitySettings()
    hasher = PasswordHasher(
        Argon2Parameters(
            settings.argon2_memory_kib,
            settings.argon2_time_cost,
            settings.argon2_parallelism,
        ),
        settings.hashing_pool_size,
    )
    try:
        stored = await hasher.hash(PASSWORD)
        assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
        assert (await hasher.verify(PASSWORD, stored)).matches
        assert not (await hasher.verify(WRONG, stored)).matches
    finally:
        hasher.close()
    assert settings.hashing_pool_size == os.cpu_count()


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice is Linux's")
async def test_hashing_threads_run_below_the_event_loop() -> None:
    loop_priority = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    hasher = PasswordHasher(Argon2Parameters(1024, 1, 1), workers=2, niceness=7)
    try:
        await asyncio.gather(hasher.hash(PASSWORD), hasher.hash(WRONG))
        threads = [t.native_id for t in hasher._pool._threads]
        priorities = [os.getpriority(os.PRIO_PROCESS, t) for t in threads if t]
    finally:
        hasher.close()

    assert priorities == [min(loop_priority + 7, 19)] * 2
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop_priority
    assert IdentitySettings().hashing_niceness == 0  # off unless asked for


async def test_an_outdated_hash_is_rehashed_at_the_next_successful_login(
    identity: Identity, identity_settings: IdentitySettings
) -> None:
    await identity.register_verified("ada@example.com")
    stronger = identity_settings.model_copy(update={"argon2_memory_kib": 2048})

    async with running(stronger) as upgraded:
        assert (await upgraded.log_in("ada@example.com", WRONG)).status_code == 401
        first = await upgraded.log_in("ada@example.com")
        second = await upgraded.log_in("ada@example.com")

        assert first.status_code == second.status_code == 200
        logins = [
            e
            for e in await upgraded.envelopes()
            if e.event_type == EventType.LOGIN_SUCCESS
        ]
        assert [e.data.rehashed for e in logins] == [True, False]  # type: ignore[attr-defined]


class HashingWork:
    """Watches the real hasher: how many verifications, where, with what held."""

    def __init__(self) -> None:
        self.verifications = 0
        self.threads: set[str] = set()
        self.connections_held: list[int] = []


@pytest.fixture
def hashing_work(
    monkeypatch: pytest.MonkeyPatch, identity: Identity
) -> Iterator[HashingWork]:
    work = HashingWork()
    pool = identity.app.state.engine.pool
    real_verify = PasswordHasher._verify

    def watched(self: PasswordHasher, password: str, stored_hash: str) -> object:
        work.verifications += 1
        work.threads.add(threading.current_thread().name)
        work.connections_held.append(pool.checkedout())
        return real_verify(self, password, stored_hash)

    monkeypatch.setattr(PasswordHasher, "_verify", watched)
    yield work


@pytest.mark.parametrize(
    ("setup", "email", "password", "status"),
    [
        ("verified", "ada@example.com", PASSWORD, 200),
        ("verified", "ada@example.com", WRONG, 401),
        ("none", "nobody@example.com", WRONG, 401),
        ("pending", "ada@example.com", PASSWORD, 403),
        ("pending", "ada@example.com", WRONG, 401),
        ("locked", "ada@example.com", PASSWORD, 423),
        ("locked-unknown", "nobody@example.com", WRONG, 423),
    ],
)
async def test_every_login_spends_one_verification_off_the_loop_without_a_connection(
    identity: Identity,
    hashing_work: HashingWork,
    setup: str,
    email: str,
    password: str,
    status: int,
) -> None:
    if setup == "verified":
        await identity.register_verified("ada@example.com")
    elif setup == "pending":
        await identity.register("ada@example.com")
    elif setup.startswith("locked"):
        if setup == "locked":
            await identity.register_verified("ada@example.com")
        for _ in range(5):
            await identity.log_in(email, WRONG)
    hashing_work.verifications = 0

    answer = await identity.log_in(email, password)

    assert answer.status_code == status
    assert hashing_work.verifications == 1
    assert all(name.startswith("argon2") for name in hashing_work.threads)
    assert set(hashing_work.connections_held) == {0}
