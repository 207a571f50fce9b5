"""A real SMTP server (aiosmtpd) on the test's event loop that keeps what it
receives, and answers chosen recipients with chosen replies."""

import asyncio
import email
import re
import socket
from collections import Counter, deque
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.smtp import SMTP, Envelope, Session

LINK = re.compile(r"https?://[^\s<>\"]+")
MESSAGE_ID = re.compile(rb"^Message-ID: <([^@>]+)@", re.MULTILINE | re.IGNORECASE)


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    raw: bytes

    @cached_property
    def message(self) -> EmailMessage:
        # Parsed on demand: parsing is the costly part of receiving a mail.
        message = email.message_from_bytes(self.raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        return message

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def to(self) -> str:
        return str(self.message["To"])

    @cached_property
    def event_id(self) -> str:
        """The cause event id, which the notifier puts into the Message-ID."""
        found = MESSAGE_ID.search(self.raw)
        assert found is not None, "no Message-ID"
        return found.group(1).decode()

    @property
    def text(self) -> str:
        return str(self._part("plain").get_content())

    @property
    def html(self) -> str:
        return str(self._part("html").get_content())

    @property
    def links(self) -> list[str]:
        return LINK.findall(self.text)

    def token_of(self, path: str) -> str:
        """The ``token`` query parameter of the link to ``path``."""
        for link in self.links:
            parts = urlsplit(link)
            if parts.path == path:
                return parse_qs(parts.query)["token"][0]
        raise AssertionError(f"no link to {path} in {self.links}")

    def _part(self, subtype: str) -> EmailMessage:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        assert isinstance(part, EmailMessage)
        return part


@dataclass
class RecordingHandler:
    """Accepts everything unless a reply is scripted for the recipient."""

    mails: list[ReceivedMail] = field(default_factory=list)
    rcpt_attempts: Counter[str] = field(default_factory=Counter)
    scripted: dict[str, deque[str]] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)
    data_delay: float = 0.0

    def refuse(self, address: str, reply: str) -> None:
        """Answer every RCPT TO ``address`` with ``reply``."""
        self.refused[address] = reply

    def script(self, address: str, *replies: str) -> None:
        """Answer the next RCPT TO ``address`` with these replies, then accept."""
        self.scripted[address] = deque(replies)

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        self.rcpt_attempts[address] += 1
        if address in self.refused:
            return self.refused[address]
        pending = self.scripted.get(address)
        if pending:
            return pending.popleft()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        self.mails.append(
            ReceivedMail(
                str(envelope.mail_from),
                tuple(envelope.rcpt_tos),
                envelope.original_content or b"",
            )
        )
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[ReceivedMail]:
        return [m for m in self.mails if address in m.recipients]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """Started and stopped at will on one port, like a mail relay going down."""

    def __init__(self, handler: RecordingHandler, port: int | None = None) -> None:
        self.handler = handler
        self.port = port or free_port()
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._protocol, host="127.0.0.1", port=self.port
        )

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def _protocol(self) -> Any:
        return SMTP(self.handler, hostname="mailbox.test", ident="recorder")
