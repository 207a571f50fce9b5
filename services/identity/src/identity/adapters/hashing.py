"""Password hashing with argon2id (passlib over argon2-cffi), off the event loop.

Hashes run in a bounded thread pool (argon2-cffi releases the GIL), so one
slow hash never stalls other requests. On Linux the hashing threads can run at
a lower priority than the event loop (``IDENTITY_HASHING_NICENESS``, a
per-thread nice increment); measured, it did not shorten health probes on
SQLite and cost a few per cent of logins, so it is off by default.

Every refusal spends one verification too, against a dummy hash when there is
no real one to check, so the time an answer takes does not tell whether the
address exists or is locked.
"""

import asyncio
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from opentelemetry import trace
from passlib.context import CryptContext

from identity.application.ports import Verification
from identity.instruments import password_hash_duration

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

T = TypeVar("T")


@dataclass(frozen=True)
class Argon2Parameters:
    memory_kib: int = 19_456
    time_cost: int = 2
    parallelism: int = 1


class PasswordHasher:
    def __init__(
        self, parameters: Argon2Parameters, workers: int, niceness: int = 0
    ) -> None:
        self._context = CryptContext(
            schemes=["argon2"],
            argon2__type="ID",
            argon2__memory_cost=parameters.memory_kib,
            argon2__rounds=parameters.time_cost,
            argon2__parallelism=parameters.parallelism,
        )
        self._pool = ThreadPoolExecutor(
            max_workers=workers,
            thread_name_prefix="argon2",
            initializer=_lower_priority,
            initargs=(niceness,),
        )
        self._dummy_hash: str | None = None

    async def start(self) -> None:
        self._dummy_hash = await self._run(
            self._context.hash, secrets.token_urlsafe(16)
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def hash(self, password: str) -> str:
        return await self._measured("hash", self._context.hash, password)

    async def verify(self, password: str, stored_hash: str) -> Verification:
        return await self._measured("verify", self._verify, password, stored_hash)

    async def spend_verification(self, password: str) -> None:
        """The work of one verification, for an answer that has no hash to check."""
        if self._dummy_hash is None:
            await self.start()
        assert self._dummy_hash is not None
        await self._measured("verify", self._verify, password, self._dummy_hash)

    def _verify(self, password: str, stored_hash: str) -> Verification:
        try:
            matches, new_hash = self._context.verify_and_update(password, stored_hash)
        except ValueError:
            logger.error("auth.password_hash_unreadable")
            return Verification(False)
        return Verification(bool(matches), new_hash if matches else None)

    async def _measured(
        self, operation: str, function: Callable[..., T], *args: str
    ) -> T:
        # A refusal's dummy verification is named like a real one: the trace
        # tells no more than the answer does.
        with tracer.start_as_current_span(
            "auth.password_hash", attributes={"auth.password.operation": operation}
        ):
            started = time.perf_counter()
            try:
                return await self._run(function, *args)
            finally:
                password_hash_duration.record(time.perf_counter() - started)

    async def _run(self, function: Callable[..., T], *args: str) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, function, *args)


def _lower_priority(niceness: int) -> None:
    """Raise the calling thread's nice value by ``niceness`` (Linux only: there
    ``setpriority`` on a thread id changes that thread alone)."""
    if not niceness or sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, thread)
        os.setpriority(os.PRIO_PROCESS, thread, min(current + niceness, 19))
    except OSError as exc:
        logger.warning("identity.hashing_priority_unchanged", extra={"error": str(exc)})
