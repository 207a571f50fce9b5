"""The facts of the identity domain, as its streams record them.

Past-tense names. These are the stored events: some carry what only identity
may know (a password hash, the hash of a single-use token), so they never
leave the service as they are; ``identity.adapters.envelopes`` maps each one
to its public wire form in one place.
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from shared.events import FailureReason


class TokenKind(StrEnum):
    VERIFICATION = "verification"
    RESET = "reset"


@dataclass(frozen=True)
class IssuedToken:
    """A single-use token as identity keeps it: the SHA-256 of it, and its end."""

    token_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class UserRegistered:
    user_id: UUID
    email: str
    canonical_email: str
    password_hash: str
    verification: IssuedToken


@dataclass(frozen=True)
class RegistrationRefused:
    reason: FailureReason


@dataclass(frozen=True)
class EmailVerified:
    pass


@dataclass(frozen=True)
class EmailVerificationFailed:
    reason: FailureReason


@dataclass(frozen=True)
class VerificationResent:
    verification: IssuedToken


@dataclass(frozen=True)
class VerificationResendRefused:
    reason: str


@dataclass(frozen=True)
class LoginSucceeded:
    token_id: str
    token_generation: int
    rehashed_password_hash: str | None = None


@dataclass(frozen=True)
class LoginFailed:
    reason: FailureReason
    failed_attempts: int | None = None


@dataclass(frozen=True)
class AccountLocked:
    locked_until: datetime
    failed_attempts: int


@dataclass(frozen=True)
class AccountUnlocked:
    cause: Literal["expired", "password_reset"]


@dataclass(frozen=True)
class LoggedOut:
    token_id: str
    token_expires_at: datetime


@dataclass(frozen=True)
class PasswordResetRequested:
    reset: IssuedToken


@dataclass(frozen=True)
class PasswordResetFailed:
    reason: FailureReason


@dataclass(frozen=True)
class PasswordReset:
    password_hash: str


@dataclass(frozen=True)
class PasswordChanged:
    password_hash: str


DomainEvent = (
    UserRegistered
    | RegistrationRefused
    | EmailVerified
    | EmailVerificationFailed
    | VerificationResent
    | VerificationResendRefused
    | LoginSucceeded
    | LoginFailed
    | AccountLocked
    | AccountUnlocked
    | LoggedOut
    | PasswordResetRequested
    | PasswordResetFailed
    | PasswordReset
    | PasswordChanged
)

EVENT_CLASSES: tuple[type[DomainEvent], ...] = (
    UserRegistered,
    RegistrationRefused,
    EmailVerified,
    EmailVerificationFailed,
    VerificationResent,
    VerificationResendRefused,
    LoginSucceeded,
    LoginFailed,
    AccountLocked,
    AccountUnlocked,
    LoggedOut,
    PasswordResetRequested,
    PasswordResetFailed,
    PasswordReset,
    PasswordChanged,
)


@dataclass(frozen=True)
class Recorded:
    """An event at its place in a stream, with the time it was recorded."""

    event: DomainEvent
    stream_version: int
    occurred_at: datetime
