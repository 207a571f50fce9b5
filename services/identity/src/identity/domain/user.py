"""The user aggregate: its state is the fold of its events.

Commands are methods that look at the state and answer the events to record;
they never change the state themselves. The caller appends the events with
the version it folded, so two writers deciding on the same state conflict.
"""

import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from identity.domain.emails import EmailAddress
from identity.domain.errors import CorruptStream
from identity.domain.events import (
    AccountUnlocked,
    DomainEvent,
    EmailVerificationFailed,
    EmailVerified,
    IssuedToken,
    LoggedOut,
    LoginFailed,
    LoginSucceeded,
    PasswordChanged,
    PasswordReset,
    PasswordResetFailed,
    PasswordResetRequested,
    Recorded,
    RegistrationRefused,
    UserRegistered,
    VerificationResendRefused,
    VerificationResent,
)
from identity.domain.lockout import (
    Lockout,
    LockoutPolicy,
    LoginDecision,
    LoginOutcome,
    count_failure,
    end_expired_lock,
    refuse_while_locked,
)
from shared.events import FailureReason

ALREADY_VERIFIED = "already_verified"


def register(
    user_id: UUID,
    email: EmailAddress,
    password_hash: str,
    verification: IssuedToken,
) -> list[DomainEvent]:
    """The first event of a new user's stream."""
    return [
        UserRegistered(
            user_id=user_id,
            email=email.address,
            canonical_email=email.canonical,
            password_hash=password_hash,
            verification=verification,
        )
    ]


@dataclass
class User:
    user_id: UUID
    email: str
    canonical_email: str
    password_hash: str
    registered_at: datetime
    verified: bool = False
    lockout: Lockout = field(default_factory=Lockout)
    verification: IssuedToken | None = None
    reset: IssuedToken | None = None
    token_generation: int = 0
    """Bumped by every password reset or change; access tokens of an older
    generation are no longer accepted."""
    version: int = 0

    @classmethod
    def fold(cls, history: Iterable[Recorded]) -> "User | None":
        """The state after ``history``; ``None`` for an empty stream."""
        user: User | None = None
        for recorded in history:
            if user is None:
                user = cls._registered(recorded)
            else:
                user._apply(recorded.event)
            user.version = recorded.stream_version
        return user

    @classmethod
    def _registered(cls, recorded: Recorded) -> "User":
        event = recorded.event
        if not isinstance(event, UserRegistered) or recorded.stream_version != 1:
            raise CorruptStream("a user stream must start with UserRegistered")
        return cls(
            user_id=event.user_id,
            email=event.email,
            canonical_email=event.canonical_email,
            password_hash=event.password_hash,
            registered_at=recorded.occurred_at,
            verification=event.verification,
        )

    def _apply(self, event: DomainEvent) -> None:
        self.lockout = self.lockout.evolve(event)
        match event:
            case EmailVerified():
                self.verified, self.verification = True, None
            case VerificationResent(verification=token):
                self.verification = token
            case LoginSucceeded(rehashed_password_hash=str(new_hash)):
                self.password_hash = new_hash
            case PasswordResetRequested(reset=token):
                self.reset = token
            case PasswordReset(password_hash=new_hash):
                self.password_hash, self.verified = new_hash, True
                self.verification = self.reset = None
                self.token_generation += 1
            case PasswordChanged(password_hash=new_hash):
                self.password_hash, self.reset = new_hash, None
                self.token_generation += 1
            case UserRegistered():
                raise CorruptStream("a user cannot register twice")

    def refuse_registration(self) -> list[DomainEvent]:
        return [RegistrationRefused(FailureReason.EMAIL_ALREADY_REGISTERED)]

    def verify_email(self, token_hash: str, now: datetime) -> list[DomainEvent]:
        if _redeemable(self.verification, token_hash, now):
            return [EmailVerified()]
        return [EmailVerificationFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)]

    def resend_verification(self, token: IssuedToken) -> list[DomainEvent]:
        """A new verification token supersedes the pending one."""
        if self.verified:
            return [VerificationResendRefused(ALREADY_VERIFIED)]
        return [VerificationResent(token)]

    def log_in(
        self,
        *,
        password_matches: bool,
        now: datetime,
        policy: LockoutPolicy,
        token_id: str,
        rehashed_password_hash: str | None = None,
    ) -> LoginDecision:
        """Judge one attempt whose password was checked against ``password_hash``.

        A correct password of an unverified account neither counts as a
        failure nor resets the count.
        """
        if refusal := refuse_while_locked(self.lockout, now):
            return refusal
        events, lockout = end_expired_lock(self.lockout, now)
        if not password_matches:
            reason = FailureReason.INVALID_PASSWORD
            return count_failure(lockout, policy, now, reason, events)
        if not self.verified:
            reason = FailureReason.EMAIL_NOT_VERIFIED
            events.append(LoginFailed(reason, lockout.failed_attempts))
            return LoginDecision(LoginOutcome.EMAIL_NOT_VERIFIED, events)
        events.append(
            LoginSucceeded(token_id, self.token_generation, rehashed_password_hash)
        )
        return LoginDecision(LoginOutcome.SUCCEEDED, events)

    def log_out(self, token_id: str, token_expires_at: datetime) -> list[DomainEvent]:
        return [LoggedOut(token_id, token_expires_at)]

    def request_password_reset(self, token: IssuedToken) -> list[DomainEvent]:
        """A new reset token supersedes the pending one."""
        return [PasswordResetRequested(token)]

    def reset_password(
        self, token_hash: str, new_password_hash: str, now: datetime
    ) -> list[DomainEvent]:
        """A completed reset proves control of the mailbox: it also verifies the
        address and ends a lock."""
        if not _redeemable(self.reset, token_hash, now):
            return [PasswordResetFailed(FailureReason.INVALID_OR_EXPIRED_TOKEN)]
        events: list[DomainEvent] = [PasswordReset(new_password_hash)]
        if not self.verified:
            events.append(EmailVerified())
        if self.lockout.is_locked(now):
            events.append(AccountUnlocked("password_reset"))
        elif self.lockout.has_expired(now):
            events.append(AccountUnlocked("expired"))
        return events

    def change_password(self, new_password_hash: str) -> list[DomainEvent]:
        """The caller has checked the current password."""
        return [PasswordChanged(new_password_hash)]

    def accepts_token_generation(self, generation: int) -> bool:
        return generation == self.token_generation


def _redeemable(pending: IssuedToken | None, token_hash: str, now: datetime) -> bool:
    return (
        pending is not None
        and hmac.compare_digest(pending.token_hash, token_hash)
        and now < pending.expires_at
    )
