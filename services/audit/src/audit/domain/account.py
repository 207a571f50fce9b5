"""Per-account activity state: a fold of the account's audit events.

Each group of fields (last attempt, lock, reset, ...) keeps the newest event
of its kind, compared by ``(occurred_at, event_id)``. The fold therefore does
not depend on the order events arrive in, which matters because an account's
events before registration are keyed by address and after it by user id, so
they may travel on different partitions. Rebuild and live projection agree.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from audit.domain.audit_event import AuditEvent
from shared.events import EventType

# Events a client caused; locks, unlocks and emails are consequences.
_NOT_ATTEMPTS = frozenset(
    {
        EventType.ACCOUNT_LOCKED,
        EventType.ACCOUNT_UNLOCKED,
        EventType.EMAIL_SENT,
        EventType.EMAIL_FAILED,
    }
)
_VERIFYING = frozenset(
    {
        EventType.EMAIL_VERIFIED,
        EventType.PASSWORD_RESET_SUCCESS,
        EventType.LOGIN_SUCCESS,
    }
)
_EMAILS = frozenset({EventType.EMAIL_SENT, EventType.EMAIL_FAILED})

RECENT_RESET = timedelta(hours=24)


@dataclass(frozen=True)
class AccountState:
    account_key: str
    user_id: UUID | None = None
    email: str | None = None
    registered_at: datetime | None = None
    verified_at: datetime | None = None
    last_event_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_attempt_event_id: UUID | None = None
    last_attempt_type: str | None = None
    last_attempt_success: bool | None = None
    last_attempt_reason: str | None = None
    last_attempt_ip: str | None = None
    last_attempt_user_agent: str | None = None
    last_login_at: datetime | None = None
    last_login_ip: str | None = None
    last_login_user_agent: str | None = None
    locked_at: datetime | None = None
    locked_until: datetime | None = None
    lock_failed_attempts: int | None = None
    lock_ip: str | None = None
    lock_user_agent: str | None = None
    unlocked_at: datetime | None = None
    unlock_cause: str | None = None
    reset_requested_at: datetime | None = None
    reset_at: datetime | None = None
    password_changed_at: datetime | None = None
    last_email_at: datetime | None = None
    last_email_template: str | None = None
    last_email_success: bool | None = None
    last_email_error: str | None = None

    @property
    def registered(self) -> bool:
        return self.registered_at is not None or self.user_id is not None

    @property
    def verified(self) -> bool:
        return self.verified_at is not None

    def locked(self, now: datetime) -> bool:
        if self.locked_at is None or self.locked_until is None:
            return False
        if self.unlocked_at is not None and self.unlocked_at >= self.locked_at:
            return False
        return self.locked_until > now

    def recently_reset(self, now: datetime) -> bool:
        return self.reset_at is not None and now - self.reset_at <= RECENT_RESET


def account_key(event: AuditEvent) -> str | None:
    """Accounts are keyed by address; an event without one by its user id."""
    if event.email_key is not None:
        return event.email_key
    if event.user_id is not None:
        return user_key(event.user_id)
    return None


def user_key(user_id: UUID) -> str:
    return f"user:{user_id}"


def apply(state: AccountState, event: AuditEvent) -> AccountState:
    """The state after ``event``, whatever order the events come in."""
    return fold(state, [event])


def fold(state: AccountState, events: Iterable[AuditEvent]) -> AccountState:
    """The state after all of ``events``; the same for any order of them."""
    fields = dict(state.__dict__)
    for event in events:
        _apply(fields, event)
    return AccountState(**fields)


def _apply(s: dict[str, Any], event: AuditEvent) -> None:
    kind = event.event_type  # a str: compared with the StrEnum's members
    at = event.occurred_at
    s["last_event_at"] = _latest(s["last_event_at"], at)
    if s["user_id"] is None and event.user_id is not None:
        s["user_id"] = event.user_id
    if s["email"] is None and event.email is not None:
        s["email"] = event.email

    if kind == EventType.REGISTRATION_SUCCESS:
        s["registered_at"] = _earliest(s["registered_at"], at)
    if kind in _VERIFYING:
        s["verified_at"] = _earliest(s["verified_at"], at)
    if kind not in _NOT_ATTEMPTS and _newer(
        at, event.event_id, s["last_attempt_at"], s["last_attempt_event_id"]
    ):
        s.update(
            last_attempt_at=at,
            last_attempt_event_id=event.event_id,
            last_attempt_type=event.event_type,
            last_attempt_success=event.success,
            last_attempt_reason=event.reason,
            last_attempt_ip=event.ip,
            last_attempt_user_agent=event.user_agent,
        )
    if kind == EventType.LOGIN_SUCCESS and _after(at, s["last_login_at"]):
        s.update(
            last_login_at=at,
            last_login_ip=event.ip,
            last_login_user_agent=event.user_agent,
        )
    if kind == EventType.ACCOUNT_LOCKED and _after(at, s["locked_at"]):
        s.update(
            locked_at=at,
            locked_until=_timestamp(event.data.get("locked_until")),
            lock_failed_attempts=event.data.get("failed_attempts"),
            lock_ip=event.ip,
            lock_user_agent=event.user_agent,
        )
    if kind == EventType.ACCOUNT_UNLOCKED and _after(at, s["unlocked_at"]):
        s.update(unlocked_at=at, unlock_cause=event.data.get("cause"))
    if kind == EventType.PASSWORD_RESET_REQUESTED and event.success:
        s["reset_requested_at"] = _latest(s["reset_requested_at"], at)
    if kind == EventType.PASSWORD_RESET_SUCCESS:
        s["reset_at"] = _latest(s["reset_at"], at)
    if kind == EventType.PASSWORD_CHANGED:
        s["password_changed_at"] = _latest(s["password_changed_at"], at)
    if kind in _EMAILS and _after(at, s["last_email_at"]):
        s.update(
            last_email_at=at,
            last_email_template=event.data.get("template"),
            last_email_success=event.success,
            last_email_error=event.data.get("error"),
        )


def _timestamp(value: object) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _after(at: datetime, current: datetime | None) -> bool:
    return current is None or at > current


def _newer(
    at: datetime, event_id: UUID, current: datetime | None, current_id: UUID | None
) -> bool:
    if current is None or current_id is None:
        return True
    return (at, event_id) > (current, current_id)


def _latest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at > current else current


def _earliest(current: datetime | None, at: datetime) -> datetime:
    return at if current is None or at < current else current
