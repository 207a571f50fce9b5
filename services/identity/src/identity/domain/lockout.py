"""Lockout: consecutive failed logins lock an address for a while.

The same rules guard an account and an address no account holds, so a
caller cannot tell the two apart by the answers they get.
"""

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from identity.domain.events import (
    AccountLocked,
    AccountUnlocked,
    DomainEvent,
    LoginFailed,
    LoginSucceeded,
    PasswordReset,
)
from shared.events import FailureReason

COUNTED_FAILURES = frozenset(
    {FailureReason.INVALID_PASSWORD, FailureReason.UNKNOWN_EMAIL}
)
"""Reasons that count towards a lock: a wrong password, or no such account."""


@dataclass(frozen=True)
class LockoutPolicy:
    threshold: int = 5
    duration: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class Lockout:
    """Consecutive counted failures, and the end of the current lock if any."""

    failed_attempts: int = 0
    locked_until: datetime | None = None

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until

    def has_expired(self, now: datetime) -> bool:
        """A lock ended by time that no ``account_unlocked`` has recorded yet."""
        return self.locked_until is not None and now >= self.locked_until

    def evolve(self, event: DomainEvent) -> "Lockout":
        match event:
            case LoginFailed(reason=reason, failed_attempts=int(count)) if (
                reason in COUNTED_FAILURES
            ):
                return Lockout(count, self.locked_until)
            case AccountLocked(locked_until=until, failed_attempts=count):
                return Lockout(count, until)
            case AccountUnlocked() | LoginSucceeded() | PasswordReset():
                return Lockout()
        return self


class LoginOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    INVALID_CREDENTIALS = "invalid_credentials"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    LOCKED = "locked"


@dataclass(frozen=True)
class LoginDecision:
    """The events a login attempt records, and what the caller is told."""

    outcome: LoginOutcome
    events: list[DomainEvent] = field(default_factory=list)
    locked_until: datetime | None = None

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the lock ends (at least 1), for ``Retry-After``."""
        if self.locked_until is None:
            return 0
        return max(1, math.ceil((self.locked_until - now).total_seconds()))


def refuse_while_locked(lockout: Lockout, now: datetime) -> LoginDecision | None:
    """While locked every attempt is refused, whatever the password."""
    if not lockout.is_locked(now):
        return None
    refusal = LoginFailed(FailureReason.ACCOUNT_LOCKED, lockout.failed_attempts)
    return LoginDecision(LoginOutcome.LOCKED, [refusal], lockout.locked_until)


def end_expired_lock(
    lockout: Lockout, now: datetime
) -> tuple[list[DomainEvent], Lockout]:
    """Record the end of a lock that ran out, and start counting afresh."""
    if lockout.has_expired(now):
        return [AccountUnlocked("expired")], Lockout()
    return [], lockout


def count_failure(
    lockout: Lockout,
    policy: LockoutPolicy,
    now: datetime,
    reason: FailureReason,
    before: list[DomainEvent],
) -> LoginDecision:
    """One more counted failure; the one that reaches the threshold locks."""
    count = lockout.failed_attempts + 1
    events = [*before, LoginFailed(reason, count)]
    if count < policy.threshold:
        return LoginDecision(LoginOutcome.INVALID_CREDENTIALS, events)
    until = now + policy.duration
    events.append(AccountLocked(until, count))
    return LoginDecision(LoginOutcome.LOCKED, events, until)
