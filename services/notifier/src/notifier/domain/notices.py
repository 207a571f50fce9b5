"""Which auth event becomes which mail, and to whom."""

import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Protocol
from uuid import UUID

from pydantic import SecretStr

from notifier.errors import MalformedEvent
from shared.events import EventEnvelope, EventType, FailureReason
from shared.events.catalogue import AccountLocked, SealedTokenIssued
from shared.sealing import SealError


class Template(StrEnum):
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"
    REGISTRATION_ATTEMPT = "registration_attempt"
    PASSWORD_CHANGED = "password_changed"
    ACCOUNT_LOCKED = "account_locked"


TOKEN_TEMPLATES = frozenset({Template.VERIFY_EMAIL, Template.RESET_PASSWORD})
# Identity refuses quoted local parts, so none of these is in a real address.
_ADDRESS_SEPARATORS = frozenset(',;:<>"()[]\\')


class Unsealer(Protocol):
    def unseal(self, sealed: str) -> str: ...


@dataclass(frozen=True)
class Notice:
    """One mail to send, to the address of the event that caused it."""

    cause_event_id: UUID
    cause_event_type: EventType
    template: Template
    recipient: str
    user_id: UUID | None
    occurred_at: datetime
    token: SecretStr | None = None
    expires_at: datetime | None = None
    locked_until: datetime | None = None
    failed_attempts: int | None = None


def notice_for(event: EventEnvelope, sealer: Unsealer) -> Notice | None:
    """The mail ``event`` asks for, or None when it asks for none.

    Raises :class:`MalformedEvent` when the event asks for a mail that can
    never be written: no address, no token, a seal that does not open.
    """
    template = _template_for(event)
    if template is None:
        return None
    if not event.email:
        raise MalformedEvent(f"{event.event_type} carries no email address")
    if not is_one_address(event.email):
        raise MalformedEvent(f"{event.event_type} carries no single plain address")
    notice = Notice(
        cause_event_id=event.event_id,
        cause_event_type=event.event_type,
        template=template,
        recipient=event.email,
        user_id=event.user_id,
        occurred_at=event.occurred_at,
    )
    data = event.data
    if template in TOKEN_TEMPLATES:
        if not isinstance(data, SealedTokenIssued) or data.sealed_token is None:
            raise MalformedEvent(f"{event.event_type} carries no sealed token")
        try:
            token = sealer.unseal(data.sealed_token)
        except SealError as exc:
            raise MalformedEvent("the sealed token cannot be opened") from exc
        return replace(notice, token=SecretStr(token), expires_at=data.token_expires_at)
    if template is Template.ACCOUNT_LOCKED:
        if not isinstance(data, AccountLocked):
            raise MalformedEvent("account_locked carries no locked_until")
        return replace(
            notice,
            locked_until=data.locked_until,
            failed_attempts=data.failed_attempts,
        )
    return notice


def is_one_address(value: str) -> bool:
    """One plain address, as identity stores them: nothing a mail library
    could read as a second recipient (``a@x, b@y``) or a header (CR/LF)."""
    return value.count("@") == 1 and not any(
        ch.isspace() or ch in _ADDRESS_SEPARATORS or unicodedata.category(ch)[0] == "C"
        for ch in value
    )


def _template_for(event: EventEnvelope) -> Template | None:
    match event.event_type:
        case EventType.REGISTRATION_SUCCESS | EventType.VERIFICATION_RESENT:
            return Template.VERIFY_EMAIL if event.success else None
        case EventType.PASSWORD_RESET_REQUESTED:
            return Template.RESET_PASSWORD if event.success else None
        case EventType.REGISTRATION_FAILED:
            if event.reason == FailureReason.EMAIL_ALREADY_REGISTERED:
                return Template.REGISTRATION_ATTEMPT
            return None
        case EventType.PASSWORD_RESET_SUCCESS | EventType.PASSWORD_CHANGED:
            return Template.PASSWORD_CHANGED if event.success else None
        case EventType.ACCOUNT_LOCKED:
            # Unknown addresses lock too, so that nothing tells them apart;
            # only a real account has an owner to warn.
            return Template.ACCOUNT_LOCKED if event.user_id is not None else None
    return None
