"""The delivery ledger's states, and what a redelivered event may do.

One ledger row per cause event id:

- ``sending``: claimed, the SMTP conversation may be in flight;
- ``sent``: the server accepted the message (2xx after DATA);
- ``deferred``: the last attempt failed transiently, another may follow;
- ``failed``: the server refused it for good (5xx); never attempted again.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum
from uuid import UUID

from shared.events import EventEnvelope, EventType, FailureReason
from shared.events.catalogue import EmailDelivery

# Outcome events get ids derived from (cause, attempt, state), so that publishing
# one again after a crash yields the same event for consumers to de-duplicate.
OUTCOME_NAMESPACE = uuid.UUID("5d7f3a9e-2b4c-4e8a-9a61-0c1f7e3b8d42")


class DeliveryState(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    DEFERRED = "deferred"
    FAILED = "failed"


FINAL_STATES = frozenset({DeliveryState.SENT, DeliveryState.FAILED})


@dataclass(frozen=True)
class Delivery:
    event_id: UUID
    template: str
    recipient: str
    user_id: UUID | None
    state: DeliveryState
    attempts: int
    smtp_code: int | None
    error: str | None
    updated_at: datetime


class Step(Enum):
    SEND = "send"
    RESEND_AMBIGUOUS = "resend_ambiguous"
    DONE = "done"
    IN_FLIGHT = "in_flight"


def next_step(seen: Delivery | None, now: datetime, lease: timedelta) -> Step:
    """What to do with an event whose ledger row is ``seen``.

    A row still ``sending`` after its lease belongs to an attempt that died
    between the SMTP reply and the ledger commit: the mail may or may not have
    gone out. We send it again: a second copy of the same link is harmless,
    a missing verification or reset link locks the user out.
    """
    if seen is None or seen.state is DeliveryState.DEFERRED:
        return Step.SEND
    if seen.state in FINAL_STATES:
        return Step.DONE
    if now - seen.updated_at < lease:
        return Step.IN_FLIGHT
    return Step.RESEND_AMBIGUOUS


def is_permanent(smtp_code: int | None) -> bool:
    """5xx replies are final; 4xx replies and lost connections are not."""
    return smtp_code is not None and 500 <= smtp_code < 600


def outcome_event(delivery: Delivery) -> EventEnvelope:
    """The ``email_sent`` / ``email_failed`` event of a delivery's last attempt."""
    sent = delivery.state is DeliveryState.SENT
    reason = None
    if not sent:
        permanent = delivery.state is DeliveryState.FAILED
        reason = (
            FailureReason.SMTP_PERMANENT if permanent else FailureReason.SMTP_TRANSIENT
        )
    name = f"{delivery.event_id}/{delivery.attempts}/{delivery.state}"
    return EventEnvelope(
        event_id=uuid.uuid5(OUTCOME_NAMESPACE, name),
        event_type=EventType.EMAIL_SENT if sent else EventType.EMAIL_FAILED,
        occurred_at=delivery.updated_at,
        user_id=delivery.user_id,
        email=delivery.recipient,
        success=sent,
        reason=reason,
        data=EmailDelivery(
            template=delivery.template,
            recipient=delivery.recipient,
            attempt=delivery.attempts,
            smtp_code=delivery.smtp_code,
            cause_event_id=delivery.event_id,
            error=delivery.error,
        ),
    )
