"""Sending one message over SMTP with aiosmtplib, errors made ours."""

import logging
import time
from email.message import EmailMessage

import aiosmtplib
from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from notifier.domain.delivery import is_permanent
from notifier.errors import SmtpFailure
from notifier.settings import NotifierSettings

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)
meter = metrics.get_meter(__name__)

send_duration = meter.create_histogram(
    "notifier.email_send.duration",
    unit="s",
    description="Time one SMTP delivery took.",
)

ACCEPTED = 250


class SmtpMailer:
    """One connection per message: mails are rare and a fresh connection
    never carries a half-broken session from the previous one."""

    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings

    async def send(self, message: EmailMessage) -> int:
        """Deliver ``message``; answer the server's reply code to DATA.

        Raises :class:`SmtpFailure`, permanent for a 5xx reply to the message
        itself, transient for 4xx replies, timeouts and lost connections.
        """
        settings = self._settings
        with tracer.start_as_current_span(
            "smtp send",
            kind=SpanKind.CLIENT,
            attributes={
                "server.address": settings.smtp_host,
                "server.port": settings.smtp_port,
                "network.protocol.name": "smtp",
            },
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            client = aiosmtplib.SMTP(
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                use_tls=settings.smtp_tls,
                start_tls=settings.smtp_starttls,
                validate_certs=settings.smtp_validate_certs,
                username=settings.smtp_username,
                password=(
                    settings.smtp_password.get_secret_value()
                    if settings.smtp_password is not None
                    else None
                ),
                timeout=settings.smtp_timeout_seconds,
            )
            started = time.perf_counter()
            try:
                await client.connect()
                await client.send_message(message)
            except (aiosmtplib.SMTPException, OSError) as exc:
                failure = _failure(exc)
                span.set_attribute("smtp.response.status_code", failure.code or 0)
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise failure from exc
            finally:
                await _close(client)
                send_duration.record(time.perf_counter() - started)
            span.set_attribute("smtp.response.status_code", ACCEPTED)
            return ACCEPTED


def _failure(exc: BaseException) -> SmtpFailure:
    code: int | None = None
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        code = exc.recipients[0].code
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        code = exc.code
    # A refused login is our configuration, not the message: keep retrying so
    # that the mail can still go out once an operator fixes the credentials.
    permanent = is_permanent(code) and not isinstance(
        exc, aiosmtplib.SMTPAuthenticationError
    )
    return SmtpFailure(f"{type(exc).__name__}: {exc}", code=code, permanent=permanent)


async def _close(client: aiosmtplib.SMTP) -> None:
    # Once DATA was accepted the mail is on its way: a failed QUIT changes nothing.
    if not client.is_connected:
        return
    try:
        await client.quit()
    except (aiosmtplib.SMTPException, OSError):
        client.close()
