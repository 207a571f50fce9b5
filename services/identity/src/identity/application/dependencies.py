"""Everything a use case may use, handed over once by the app factory."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from identity.application.ports import (
    AccessTokens,
    Directory,
    EventStore,
    Hasher,
    Sealer,
)
from identity.application.recording import Recorder
from identity.domain.lockout import LockoutPolicy


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Lifetimes:
    verification: timedelta = timedelta(hours=24)
    reset: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class Dependencies:
    store: EventStore
    directory: Directory
    hasher: Hasher
    tokens: AccessTokens
    sealer: Sealer
    recorder: Recorder
    lockout_policy: LockoutPolicy = field(default_factory=LockoutPolicy)
    lifetimes: Lifetimes = field(default_factory=Lifetimes)
    clock: Callable[[], datetime] = utc_now
