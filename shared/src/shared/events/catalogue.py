"""The catalogue of event types and their type-specific ``data``.

Wire names are fixed by CONTRACT.md and mapped here, in exactly one place.
No model here may hold a secret: tokens for the notifier travel sealed.
"""

from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class EventType(StrEnum):
    REGISTRATION_SUCCESS = "registration_success"
    REGISTRATION_FAILED = "registration_failed"
    EMAIL_VERIFIED = "email_verified"
    EMAIL_VERIFICATION_FAILED = "email_verification_failed"
    VERIFICATION_RESENT = "verification_resent"
    LOGIN_SUCCESS = "login_success"
    LOGIN_FAILED = "login_failed"
    ACCOUNT_LOCKED = "account_locked"
    ACCOUNT_UNLOCKED = "account_unlocked"
    LOGOUT = "logout"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET_FAILED = "password_reset_failed"
    PASSWORD_RESET_SUCCESS = "password_reset_success"
    PASSWORD_CHANGED = "password_changed"
    EMAIL_SENT = "email_sent"
    EMAIL_FAILED = "email_failed"


class FailureReason(StrEnum):
    VALIDATION_ERROR = "validation_error"
    EMAIL_ALREADY_REGISTERED = "email_already_registered"
    INVALID_PASSWORD = "invalid_password"
    UNKNOWN_EMAIL = "unknown_email"
    ACCOUNT_LOCKED = "account_locked"
    EMAIL_NOT_VERIFIED = "email_not_verified"
    INVALID_OR_EXPIRED_TOKEN = "invalid_or_expired_token"
    RATE_LIMITED = "rate_limited"
    SMTP_TRANSIENT = "smtp_transient"
    SMTP_PERMANENT = "smtp_permanent"


class EventData(BaseModel):
    """Base of every ``data`` model: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoData(EventData):
    pass


class SealedTokenIssued(EventData):
    """A single-use token for the notifier, sealed for it alone.

    Both fields are absent when the event records a refusal (``success`` false).
    """

    sealed_token: str | None = Field(default=None, min_length=1, max_length=4096)
    token_expires_at: datetime | None = None


class LoginSucceeded(EventData):
    token_id: str = Field(description="jti of the issued access token")
    rehashed: bool = False


class LoginFailed(EventData):
    failed_attempts: int | None = Field(default=None, ge=0)


class AccountLocked(EventData):
    locked_until: datetime
    failed_attempts: int = Field(ge=1)


class AccountUnlocked(EventData):
    cause: Literal["expired", "password_reset"]


class LoggedOut(EventData):
    token_id: str


class EmailDelivery(EventData):
    """Outcome of one email: the notifier's ``email_sent`` / ``email_failed``."""

    template: str
    recipient: str
    attempt: int = Field(ge=1)
    smtp_code: int | None = None
    cause_event_id: UUID
    error: str | None = None


DATA_MODELS: dict[EventType, type[EventData]] = {
    EventType.REGISTRATION_SUCCESS: SealedTokenIssued,
    EventType.REGISTRATION_FAILED: NoData,
    EventType.EMAIL_VERIFIED: NoData,
    EventType.EMAIL_VERIFICATION_FAILED: NoData,
    EventType.VERIFICATION_RESENT: SealedTokenIssued,
    EventType.LOGIN_SUCCESS: LoginSucceeded,
    EventType.LOGIN_FAILED: LoginFailed,
    EventType.ACCOUNT_LOCKED: AccountLocked,
    EventType.ACCOUNT_UNLOCKED: AccountUnlocked,
    EventType.LOGOUT: LoggedOut,
    EventType.PASSWORD_RESET_REQUESTED: SealedTokenIssued,
    EventType.PASSWORD_RESET_FAILED: NoData,
    EventType.PASSWORD_RESET_SUCCESS: NoData,
    EventType.PASSWORD_CHANGED: NoData,
    EventType.EMAIL_SENT: EmailDelivery,
    EventType.EMAIL_FAILED: EmailDelivery,
}
