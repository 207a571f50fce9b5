"""Stored identity events to their public wire form: the one mapping.

What only identity may know (password hashes, token hashes) stays behind;
a single-use token travels only sealed for the notifier.
"""

from collections.abc import Mapping
from datetime import datetime
from uuid import UUID

from identity.application.context import RequestContext
from identity.application.streams import ADDRESS_PREFIX, StreamRef
from identity.domain.events import (
    AccountLocked,
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
    RegistrationRefused,
    UserRegistered,
    VerificationResendRefused,
    VerificationResent,
)
from shared.events import EventEnvelope, EventType
from shared.events import catalogue as wire

SealedTokens = Mapping[str, str]
"""Sealed token by the hash of the raw token, for the events that issue one."""


def wire_form(
    event: DomainEvent, sealed: SealedTokens
) -> tuple[EventType, bool, str | None, wire.EventData]:
    """Type, success, reason and ``data`` of the public event."""
    match event:
        case UserRegistered(verification=token):
            return EventType.REGISTRATION_SUCCESS, True, None, _sealed(token, sealed)
        case RegistrationRefused(reason=reason):
            return EventType.REGISTRATION_FAILED, False, reason, wire.NoData()
        case EmailVerified():
            return EventType.EMAIL_VERIFIED, True, None, wire.NoData()
        case EmailVerificationFailed(reason=reason):
            return EventType.EMAIL_VERIFICATION_FAILED, False, reason, wire.NoData()
        case VerificationResent(verification=token):
            return EventType.VERIFICATION_RESENT, True, None, _sealed(token, sealed)
        case VerificationResendRefused(reason=reason):
            return (
                EventType.VERIFICATION_RESENT,
                False,
                reason,
                wire.SealedTokenIssued(),
            )
        case LoginSucceeded(token_id=token_id, rehashed_password_hash=new_hash):
            data = wire.LoginSucceeded(token_id=token_id, rehashed=new_hash is not None)
            return EventType.LOGIN_SUCCESS, True, None, data
        case LoginFailed(reason=reason, failed_attempts=count):
            data_failed = wire.LoginFailed(failed_attempts=count)
            return EventType.LOGIN_FAILED, False, reason, data_failed
        case AccountLocked(locked_until=until, failed_attempts=count):
            data_locked = wire.AccountLocked(locked_until=until, failed_attempts=count)
            return EventType.ACCOUNT_LOCKED, False, None, data_locked
        case AccountUnlocked(cause=cause):
            return (
                EventType.ACCOUNT_UNLOCKED,
                True,
                None,
                wire.AccountUnlocked(cause=cause),
            )
        case LoggedOut(token_id=token_id):
            return EventType.LOGOUT, True, None, wire.LoggedOut(token_id=token_id)
        case PasswordResetRequested(reset=token):
            issued = _sealed(token, sealed)
            return EventType.PASSWORD_RESET_REQUESTED, True, None, issued
        case PasswordResetFailed(reason=reason):
            return EventType.PASSWORD_RESET_FAILED, False, reason, wire.NoData()
        case PasswordReset():
            return EventType.PASSWORD_RESET_SUCCESS, True, None, wire.NoData()
        case PasswordChanged():
            return EventType.PASSWORD_CHANGED, True, None, wire.NoData()
    raise TypeError(f"no wire form for {type(event).__name__}")


def to_envelope(
    event: DomainEvent,
    *,
    event_id: UUID,
    occurred_at: datetime,
    stream: StreamRef,
    stream_version: int | None,
    context: RequestContext,
    sealed: SealedTokens,
) -> EventEnvelope:
    event_type, success, reason, data = wire_form(event, sealed)
    public_version = stream_version
    if stream.stream_id is None or stream.stream_id.startswith(ADDRESS_PREFIX):
        public_version = None  # the contract numbers user streams only
    return EventEnvelope(
        event_id=event_id,
        event_type=event_type,
        occurred_at=occurred_at,
        user_id=stream.user_id,
        email=stream.email,
        success=success,
        reason=reason,
        ip=context.ip,
        user_agent=context.user_agent,
        duration_ms=context.elapsed_ms(),
        stream_version=public_version,
        data=data,
    )


def _sealed(token: IssuedToken, sealed: SealedTokens) -> wire.SealedTokenIssued:
    return wire.SealedTokenIssued(
        sealed_token=sealed[token.token_hash], token_expires_at=token.expires_at
    )
