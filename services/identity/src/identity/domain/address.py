"""Login attempts on an address that no account holds.

They are counted and locked exactly like an account's, so the answers and the
work spent never reveal whether an address is registered.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from identity.domain.events import Recorded
from identity.domain.lockout import (
    Lockout,
    LockoutPolicy,
    LoginDecision,
    count_failure,
    end_expired_lock,
    refuse_while_locked,
)
from shared.events import FailureReason


@dataclass
class UnknownAddress:
    canonical_email: str
    lockout: Lockout = field(default_factory=Lockout)
    version: int = 0

    @classmethod
    def fold(
        cls, canonical_email: str, history: Iterable[Recorded]
    ) -> "UnknownAddress":
        address = cls(canonical_email)
        for recorded in history:
            address.lockout = address.lockout.evolve(recorded.event)
            address.version = recorded.stream_version
        return address

    def log_in(self, now: datetime, policy: LockoutPolicy) -> LoginDecision:
        if refusal := refuse_while_locked(self.lockout, now):
            return refusal
        unlocked, lockout = end_expired_lock(self.lockout, now)
        return count_failure(
            lockout, policy, now, FailureReason.UNKNOWN_EMAIL, unlocked
        )
