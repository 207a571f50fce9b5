"""Recording events: append, tell the relay, and count and log each as an
auth event."""

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import TypeVar

from opentelemetry import trace

from identity.application.context import RequestContext
from identity.application.errors import Busy
from identity.application.ports import EventStore
from identity.application.streams import StreamRef
from identity.domain.errors import ConcurrencyConflict
from identity.domain.events import DomainEvent
from identity.instruments import auth_events
from shared.events import EventEnvelope, EventType

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

T = TypeVar("T")

MAX_ATTEMPTS = 100
_LOG_NAMES = {t: f"auth.{t.value}" for t in EventType}


class Recorder:
    def __init__(
        self, store: EventStore, on_recorded: Callable[[], None] = lambda: None
    ) -> None:
        self._store = store
        self._on_recorded = on_recorded

    async def record(
        self,
        stream: StreamRef,
        events: Sequence[DomainEvent],
        *,
        now: datetime,
        context: RequestContext,
        sealed: Mapping[str, str] | None = None,
    ) -> list[EventEnvelope]:
        # The outbox rows keep this span's context: the relay publishes each
        # event as a child of the append that stored it.
        with tracer.start_as_current_span(
            "auth.event_store.append", attributes={"auth.events.count": len(events)}
        ):
            envelopes = await self._store.append(
                stream, events, now=now, context=context, sealed=sealed or {}
            )
        self._on_recorded()
        for envelope in envelopes:
            count_auth_event(envelope)
            log_auth_event(envelope)
        return envelopes


def count_auth_event(envelope: EventEnvelope) -> None:
    attributes = {
        "event_type": envelope.event_type.value,
        "outcome": "success" if envelope.success else "failure",
    }
    if envelope.reason is not None:
        attributes["reason"] = str(envelope.reason)
    auth_events.add(1, attributes)


def log_auth_event(envelope: EventEnvelope) -> None:
    """One structured record per auth event: INFO on success, WARNING otherwise."""
    logger.log(
        logging.INFO if envelope.success else logging.WARNING,
        _LOG_NAMES[envelope.event_type],
        extra={
            "event_type": envelope.event_type.value,
            "event_id": str(envelope.event_id),
            "user_id": str(envelope.user_id) if envelope.user_id else None,
            "email": envelope.email,
            "ip": envelope.ip,
            "user_agent": envelope.user_agent,
            "reason": envelope.reason,
            "duration_ms": envelope.duration_ms,
        },
    )


async def until_appended(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run load-decide-append until no other writer got there first.

    Each conflict means another writer made progress on the stream, so the
    loop ends; the bound only guards against a bug.
    """
    for tries in range(1, MAX_ATTEMPTS + 1):
        try:
            return await attempt()
        except ConcurrencyConflict:
            # A short random pause spreads the losers of one round apart.
            await asyncio.sleep(random.uniform(0, min(0.05, 0.002 * tries)))
    logger.error("auth.append_gave_up", extra={"attempts": MAX_ATTEMPTS})
    raise Busy("too many concurrent writers")
