"""The consumer edge: one auth event record in, at most one mail out.

Errors leave in the terms of :class:`shared.messaging.consumer.ConsumerLoop`:
an event that can never be mailed is a :class:`PoisonMessage` (dead-lettered
at once), an unreachable database or broker is a
:class:`DependencyUnavailable` (retried without a bound), and a transient SMTP
failure is retried within the loop's bound, then dead-lettered.
"""

from aiokafka.structs import ConsumerRecord

from notifier.domain.notices import Unsealer, notice_for
from notifier.errors import (
    DeliveryInFlight,
    LedgerUnavailable,
    MalformedEvent,
    PublishFailed,
)
from notifier.send_notice import SendNotice
from shared.events import decode_envelope
from shared.messaging.consumer import DependencyUnavailable, PoisonMessage


class AuthEventHandler:
    def __init__(self, send_notice: SendNotice, sealer: Unsealer) -> None:
        self._send_notice = send_notice
        self._sealer = sealer

    async def __call__(self, record: ConsumerRecord) -> None:
        event = decode_envelope(record.value)
        try:
            notice = notice_for(event, self._sealer)
        except MalformedEvent as exc:
            raise PoisonMessage(str(exc)) from exc
        if notice is None:
            return
        try:
            await self._send_notice(notice)
        except (LedgerUnavailable, PublishFailed, DeliveryInFlight) as exc:
            raise DependencyUnavailable(f"{type(exc).__name__}: {exc}") from exc
