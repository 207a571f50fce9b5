"""The use case: send the mail a notice asks for, at most once per event.

The ledger is read first: a redelivered event whose mail went out (or was
refused for good) sends nothing. Otherwise the row is claimed (``sending``,
committed) before the SMTP conversation and given its outcome right after the
reply, so that the only window in which a crash leaves the outcome unknown is
the SMTP reply travelling to the ledger commit.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Protocol

from opentelemetry import metrics

from notifier.domain.delivery import Delivery, DeliveryState, Step, next_step
from notifier.domain.notices import Notice
from notifier.errors import (
    DeliveryDeferred,
    DeliveryInFlight,
    LedgerUnavailable,
    SmtpFailure,
)
from notifier.ledger import DeliveryLedger

logger = logging.getLogger(__name__)
meter = metrics.get_meter(__name__)

emails = meter.create_counter(
    "notifier.emails",
    unit="{email}",
    description="SMTP attempts by template and outcome (sent, deferred, failed)",
)

# Retrying the outcome write in place keeps the unknown-outcome window short
# through a database blip, instead of leaving the row ``sending``.
RECORD_RETRY_DELAYS = (0.1, 0.3, 1.0, 2.0, 4.0)


class Renderer(Protocol):
    def render(self, notice: Notice) -> EmailMessage: ...


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> int: ...


class Outcomes(Protocol):
    async def publish(self, delivery: Delivery) -> None: ...


class SendNotice:
    def __init__(
        self,
        ledger: DeliveryLedger,
        renderer: Renderer,
        mailer: Mailer,
        outcomes: Outcomes,
        *,
        sending_lease: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ledger = ledger
        self._renderer = renderer
        self._mailer = mailer
        self._outcomes = outcomes
        self._lease = sending_lease
        self._clock = clock

    async def __call__(self, notice: Notice) -> None:
        """Send, or skip a mail already sent or refused.

        Raises :class:`DeliveryDeferred` after a transient SMTP failure and
        :class:`DeliveryInFlight` while another attempt holds the event.
        """
        seen = await self._ledger.find(notice.cause_event_id)
        step = next_step(seen, self._clock(), self._lease)
        if step is Step.DONE:
            assert seen is not None
            logger.info("notifier.duplicate_skipped", extra=_fields(notice, seen))
            # The outcome event has a stable id: publishing it again covers a
            # crash between the ledger commit and the first publication.
            await self._outcomes.publish(seen)
            return
        if step is Step.IN_FLIGHT:
            raise DeliveryInFlight(f"event {notice.cause_event_id} is being sent")
        if step is Step.RESEND_AMBIGUOUS:
            assert seen is not None
            logger.warning("notifier.ambiguous_resend", extra=_fields(notice, seen))

        message = self._renderer.render(notice)
        attempt = await self._ledger.claim(notice, seen, self._clock())
        try:
            code = await self._mailer.send(message)
        except SmtpFailure as failure:
            await self._failed(notice, attempt, failure)
            return
        delivery = await self._record(notice, attempt, DeliveryState.SENT, code, None)

        logger.info("notifier.email_sent", extra=_fields(notice, delivery))
        emails.add(1, {"notifier.template": notice.template.value, "outcome": "sent"})
        await self._outcomes.publish(delivery)

    async def _failed(self, notice: Notice, attempt: int, failure: SmtpFailure) -> None:
        state = DeliveryState.FAILED if failure.permanent else DeliveryState.DEFERRED
        delivery = await self._record(
            notice, attempt, state, failure.code, str(failure)
        )

        logger.warning(
            "notifier.email_failed",
            extra={**_fields(notice, delivery), "error": delivery.error},
        )
        emails.add(1, {"notifier.template": notice.template.value, "outcome": state})
        await self._outcomes.publish(delivery)
        if not failure.permanent:
            raise DeliveryDeferred(str(failure)) from failure

    async def _record(
        self,
        notice: Notice,
        attempt: int,
        state: DeliveryState,
        code: int | None,
        error: str | None,
    ) -> Delivery:
        for delay in RECORD_RETRY_DELAYS:
            try:
                return await self._ledger.record(
                    notice,
                    attempt,
                    state,
                    smtp_code=code,
                    error=error,
                    now=self._clock(),
                )
            except LedgerUnavailable:
                logger.warning(
                    "notifier.ledger_retry",
                    extra={"event_id": str(notice.cause_event_id), "state": state},
                )
                await asyncio.sleep(delay)
        return await self._ledger.record(
            notice, attempt, state, smtp_code=code, error=error, now=self._clock()
        )


def _fields(notice: Notice, delivery: Delivery) -> dict[str, object]:
    # Never the token, the link or the address: ids, the template and codes.
    return {
        "event_id": str(notice.cause_event_id),
        "event_type": notice.cause_event_type.value,
        "user_id": str(notice.user_id) if notice.user_id else None,
        "template": notice.template.value,
        "state": delivery.state.value,
        "attempt": delivery.attempts,
        "smtp_code": delivery.smtp_code,
    }
