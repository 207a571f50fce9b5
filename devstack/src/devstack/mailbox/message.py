"""A caught email as the mailbox API shows it, parsed from the raw MIME bytes."""

import html
import re
import uuid
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage, Message

from pydantic import BaseModel, ConfigDict, Field

# Stops at whitespace, quotes and angle brackets: the ends of a link in text
# and in an HTML attribute alike.
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?"


class MailMessage(BaseModel):
    """One message as one recipient received it; absent bodies are ``""``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    to: str
    sender: str = Field(alias="from")
    subject: str
    text: str
    html: str
    received_at: datetime
    links: list[str]


def parse_message(
    raw: bytes, *, recipients: list[str], mail_from: str
) -> list[MailMessage]:
    """One :class:`MailMessage` per envelope recipient of ``raw``."""
    parsed = message_from_bytes(raw, policy=policy.default)
    text = _body(parsed, "plain")
    html_body = _body(parsed, "html")
    subject = str(parsed.get("subject", ""))
    links = extract_links(text, html_body)
    received_at = datetime.now(UTC)
    return [
        MailMessage(
            id=uuid.uuid4().hex,
            to=recipient,
            sender=mail_from,
            subject=subject,
            text=text,
            html=html_body,
            received_at=received_at,
            links=links,
        )
        for recipient in recipients
    ]


def extract_links(text: str, html_body: str) -> list[str]:
    """The http(s) links of both bodies, in order of appearance, once each."""
    found = [*_URL.findall(text), *map(html.unescape, _URL.findall(html_body))]
    links: dict[str, None] = {}
    for link in found:
        link = link.rstrip(_TRAILING)
        if link.endswith(")") and "(" not in link:
            link = link[:-1]
        links.setdefault(link, None)
    return list(links)


def _body(message: Message, subtype: str) -> str:
    if not isinstance(message, EmailMessage):
        return ""
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError):
        # An unknown charset or a broken transfer encoding: show what decodes.
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
    if isinstance(content, bytes):
        content = content.decode("utf-8", "replace")
    # SMTP carries CRLF line ends; readers expect plain newlines.
    return content.replace("\r\n", "\n") if isinstance(content, str) else ""
