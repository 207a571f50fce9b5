"""The dev mailbox: an SMTP server and its HTTP API on one event loop."""

import asyncio
import contextlib
import logging
import socket
from collections.abc import Generator

import uvicorn
from aiosmtpd.smtp import SMTP, Envelope, Session

from devstack.mailbox.api import create_app
from devstack.mailbox.message import parse_message
from devstack.mailbox.store import MailStore

logger = logging.getLogger(__name__)


class _Catcher:
    """The aiosmtpd handler: every accepted message goes to the store."""

    def __init__(self, store: MailStore) -> None:
        self._store = store

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw = envelope.original_content or b""
        messages = parse_message(
            raw, recipients=list(envelope.rcpt_tos), mail_from=envelope.mail_from or ""
        )
        self._store.add(messages)
        for message in messages:
            logger.info(
                "mailbox.received",
                extra={"to": message.to, "subject": message.subject},
            )
        return "250 Message accepted for delivery"


class _EmbeddedServer(uvicorn.Server):
    # The owner of the event loop handles signals, not uvicorn.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


class DevMailbox:
    """SMTP on ``smtp_port`` and the HTTP API on ``http_port`` (0: a free port).

    Runs on the caller's event loop: ``await start()``, then ``await stop()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        smtp_port: int = 1025,
        http_port: int = 8025,
        *,
        capacity: int = 10_000,
        max_message_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self.store = MailStore(capacity)
        self._max_message_bytes = max_message_bytes
        self._smtp: asyncio.Server | None = None
        self._http: _EmbeddedServer | None = None
        self._http_task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        catcher = _Catcher(self.store)
        self._smtp = await loop.create_server(
            lambda: SMTP(
                catcher,
                hostname="authtrail-dev-mailbox",
                enable_SMTPUTF8=True,
                data_size_limit=self._max_message_bytes,
                loop=loop,
            ),
            self.host,
            self.smtp_port,
        )
        self.smtp_port = self._smtp.sockets[0].getsockname()[1]
        try:
            await self._start_http()
        except BaseException:
            await self.stop()
            raise
        logger.info(
            "mailbox.started",
            extra={"smtp": f"{self.host}:{self.smtp_port}", "http": self.url},
        )

    async def _start_http(self) -> None:
        # Bound here so that a busy port raises OSError instead of uvicorn's exit.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.http_port))
        except OSError:
            sock.close()
            raise
        self.http_port = sock.getsockname()[1]
        config = uvicorn.Config(
            create_app(self.store),
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="off",
        )
        self._http = _EmbeddedServer(config)
        self._http_task = asyncio.create_task(self._http.serve(sockets=[sock]))
        while not self._http.started:
            if self._http_task.done():
                self._http_task.result()
                raise RuntimeError("the mailbox HTTP server stopped at start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._http is not None and self._http_task is not None:
            self._http.should_exit = True
            await self._http_task
            self._http = self._http_task = None
        if self._smtp is not None:
            self._smtp.close()
            await self._smtp.wait_closed()
            self._smtp = None
