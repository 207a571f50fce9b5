"""The ``devstack`` command: the local stack and its dev mailbox."""

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING

import typer

from devstack.settings import MailboxSettings, StackSettings
from devstack.stack import ChildFailed, Stack, StackError, summary_lines

if TYPE_CHECKING:
    from devstack.mailbox import DevMailbox

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
    # Imported here: `devstack run` starts faster without FastAPI and OTel.
    from devstack.mailbox import DevMailbox
    from shared.telemetry import configure_logging

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


async def _serve_until_signal(box: "DevMailbox") -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await box.start()
    try:
        await stop.wait()
    finally:
        await box.stop()


@cli.command()
def run() -> None:
    """Start the whole system on embedded defaults until Ctrl-C or SIGTERM.

    Embedded broker (unless KAFKA_BOOTSTRAP_SERVERS is set), dev mailbox,
    migrations, then identity, notifier and audit. Ports and folders come from
    the environment: IDENTITY_PORT, NOTIFIER_PORT, AUDIT_PORT, BROKER_PORT,
    MAILBOX_SMTP_PORT, MAILBOX_HTTP_PORT, DATA_DIR, *_DATABASE_URL.
    """
    stack = Stack(StackSettings())
    raise typer.Exit(asyncio.run(_run_until_signal(stack)))


async def _run_until_signal(stack: Stack) -> int:
    """0 after a requested stop; 1 when a child failed or a port was busy."""
    output = stack.output
    stop = asyncio.Event()

    def request_stop() -> None:
        if stop.is_set():
            output.error("second signal: killing every child")
            stack.kill()
        stop.set()

    loop = asyncio.get_running_loop()
    # SIGHUP too: a closed terminal must not leave the children running.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, request_stop)
    stopping = asyncio.create_task(stop.wait())

    starting = asyncio.create_task(stack.start())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        output.note("stopping during start-up")
        starting.cancel()
        with contextlib.suppress(asyncio.CancelledError, StackError):
            await starting
        await stack.stop()
        output.note("stopped")
        return 0
    try:
        starting.result()
    except StackError as error:
        _report_start_failure(stack, error)
        return 1
    output.summary("authtrail is up; Ctrl-C stops it", summary_lines(stack.settings))

    watching = asyncio.create_task(stack.wait())
    await asyncio.wait({watching, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if watching.done():
        died = watching.result()
        output.error(f"{died.name} exited with status {died.returncode}; stopping")
        _show_tail(stack, died.name, list(died.tail))
        await stack.stop()
        return 1
    watching.cancel()
    output.note("stopping")
    await stack.stop()
    output.note("stopped")
    return 0


def _report_start_failure(stack: Stack, error: StackError) -> None:
    if isinstance(error, ChildFailed):
        stack.output.error(f"start-up failed: {error}; stopped the others")
        _show_tail(stack, error.name, error.tail)
    else:
        stack.output.error(f"cannot start: {error}")


def _show_tail(stack: Stack, name: str, tail: list[str]) -> None:
    if tail:
        stack.output.error(f"last output of {name}:")
        for line in tail:
            stack.output.error(f"  {line}")


def main() -> None:
    cli()
