"""Notices rendered into multipart (plain text and HTML) email messages."""

from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from opentelemetry import trace

from notifier.domain.notices import Notice, Template

tracer = trace.get_tracer(__name__)

LINK_PATHS = {
    Template.VERIFY_EMAIL: "/verify",
    Template.RESET_PASSWORD: "/reset-password",
}


class MailRenderer:
    """Renders ``templates/<template>.txt`` and ``.html`` with the product's
    name and public URL; the subject is the ``subject`` block of the text one."""

    def __init__(self, *, sender: str, product_name: str, public_url: str) -> None:
        self._sender = sender
        self._product_name = product_name
        self._public_url = public_url.rstrip("/")
        self._domain = sender.rpartition("@")[2] or "authtrail.localhost"
        self._env = Environment(
            loader=PackageLoader("notifier", "templates"),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters["utc"] = _utc

    def render(self, notice: Notice) -> EmailMessage:
        with tracer.start_as_current_span(
            "notifier.render", attributes={"notifier.template": notice.template.value}
        ):
            context = self._context(notice)
            text = self._env.get_template(f"{notice.template}.txt")
            html = self._env.get_template(f"{notice.template}.html")
            subject = "".join(text.blocks["subject"](text.new_context(context)))
            return self._message(
                notice, subject.strip(), text.render(context), html.render(context)
            )

    def _context(self, notice: Notice) -> dict[str, Any]:
        link = None
        if notice.token is not None:
            query = urlencode({"token": notice.token.get_secret_value()})
            link = f"{self._public_url}{LINK_PATHS[notice.template]}?{query}"
        return {
            "product_name": self._product_name,
            "public_url": self._public_url,
            "recipient": notice.recipient,
            "occurred_at": notice.occurred_at,
            "link": link,
            "expires_at": notice.expires_at,
            "locked_until": notice.locked_until,
            "failed_attempts": notice.failed_attempts,
        }

    def _message(
        self, notice: Notice, subject: str, text: str, html: str
    ) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = Address(self._product_name, addr_spec=self._sender)
        message["To"] = notice.recipient
        message["Date"] = format_datetime(datetime.now(UTC))
        # The same event always yields the same Message-ID, so a mailbox that
        # receives a resent copy can tell it is the same message.
        message["Message-ID"] = f"<{notice.cause_event_id}@{self._domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        return message


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
