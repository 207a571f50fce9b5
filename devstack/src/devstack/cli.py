"""The ``devstack`` command: the local stack and its dev mailbox."""

import asyncio
import signal

import typer

from devstack.mailbox import DevMailbox
from devstack.settings import MailboxSettings
from shared.telemetry import configure_logging

cli = typer.Typer(help="authtrail local development stack", no_args_is_help=True)


@cli.callback()
def _group() -> None:
    """authtrail local development stack."""


@cli.command()
def mailbox(
    host: str | None = typer.Option(None, help="address to bind [env: HOST]"),
    smtp_port: int | None = typer.Option(
        None, help="SMTP port, 0 for a free one [env: MAILBOX_SMTP_PORT]"
    ),
    http_port: int | None = typer.Option(
        None, help="HTTP API port, 0 for a free one [env: MAILBOX_HTTP_PORT]"
    ),
) -> None:
    """Catch outgoing mail over SMTP and show it over HTTP until SIGINT/SIGTERM."""
    settings = MailboxSettings()
    configure_logging(settings.log_level, otel=False)
    box = DevMailbox(
        host or settings.host,
        settings.mailbox_smtp_port if smtp_port is None else smtp_port,
        settings.mailbox_http_port if http_port is None else http_port,
        capacity=settings.mailbox_capacity,
        max_message_bytes=settings.mailbox_max_bytes,
    )
    asyncio.run(_serve_until_signal(box))


async def _serve_until_signal(box: DevMailbox) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await box.start()
    try:
        await stop.wait()
    finally:
        await box.stop()


def main() -> None:
    cli()
