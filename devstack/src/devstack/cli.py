"""The ``devstack`` command: the local stack and its dev mailbox."""

import asyncio
import logging
import signal
from typing import TYPE_CHECKING

import typer

from devstack.settings import MailboxSettings, StackSettings
from devstack.stack import Stack, run_in_foreground

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
    # aiosmtpd logs every SMTP command at INFO; mailbox.received says enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
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
    raise typer.Exit(asyncio.run(run_in_foreground(stack)))


@cli.command()
def demo(
    users: int = typer.Option(5, min=1, max=500, help="users who register"),
    rate: float = typer.Option(
        2.0, min=0.1, help="requests per second to identity, all users together"
    ),
    duration: float = typer.Option(
        60.0, min=0, help="seconds of mixed traffic after the scripted scenes"
    ),
    seed: int | None = typer.Option(
        None, help="repeat a run's names, passwords and choices"
    ),
    identity_url: str | None = typer.Option(None, help="default: IDENTITY_PORT"),
    audit_url: str | None = typer.Option(None, help="default: AUDIT_PORT"),
    mailbox_url: str | None = typer.Option(None, help="default: MAILBOX_HTTP_PORT"),
    jaeger_ui_url: str | None = typer.Option(None, help="[env: JAEGER_UI_URL]"),
) -> None:
    """Traffic like real users and an attacker against a running `devstack run`.

    Users register, read the dev mailbox, verify, log in and out and mistype;
    one account is locked and reset; one client tries leaked passwords on
    many addresses. Ends with the audit summary, the alerts and a trace link.
    """
    from rich.console import Console

    from devstack.demo import DemoError, DemoOptions, render_report, run_demo
    from devstack.demo.settings import DemoSettings

    settings = DemoSettings()
    options = DemoOptions(
        identity_url=identity_url or settings.identity_url,
        audit_url=audit_url or settings.audit_url,
        mailbox_url=mailbox_url or settings.mailbox_url,
        jaeger_ui_url=jaeger_ui_url or settings.jaeger_ui_url,
        users=users,
        rate=rate,
        duration=duration,
        seed=seed,
    )
    console = Console(highlight=False, soft_wrap=True)
    try:
        report = asyncio.run(run_demo(options, console))
    except DemoError as error:
        Console(stderr=True, highlight=False).print(
            f"demo: {error}", style="bold red", soft_wrap=True
        )
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    render_report(report, console)


def main() -> None:
    cli()


@cli.command()
def soak(
    minutes: float = typer.Option(10.0, min=0.1, help="minutes of steady traffic"),
    rate: float = typer.Option(5.0, min=0.1, help="requests per second to identity"),
    users: int = typer.Option(20, min=1, help="users registered before the run"),
    sample: float = typer.Option(10.0, min=1.0, help="seconds between samples"),
    own_stack: bool = typer.Option(
        False, help="start a stack of its own on free ports instead of `make run`'s"
    ),
) -> None:
    """Steady mixed traffic for MINUTES against a running `devstack run`.

    Samples each process's memory and the consumer lag; fails on any 5xx,
    memory growth of 10 % or more after warm-up, or a lag that keeps rising.
    Start the stack with IDENTITY_TRUSTED_PROXIES=127.0.0.1 so the soak's
    clients count as many addresses for the rate limit.
    """
    from rich.console import Console

    from devstack.soak import SoakOptions, render_soak, run_soak

    console = Console(highlight=False, soft_wrap=True)

    async def soak_against(settings: StackSettings) -> bool:
        options = SoakOptions(
            identity_url=settings.identity_url,
            audit_url=settings.audit_url,
            mailbox_url=settings.mailbox_url,
            bootstrap_servers=settings.bootstrap_servers,
            ports={
                "identity": settings.identity_port,
                "notifier": settings.notifier_port,
                "audit": settings.audit_port,
                "broker": settings.broker_port,
                "mailbox": settings.mailbox_http_port,
            },
            minutes=minutes,
            rate=rate,
            users=users,
            sample_seconds=sample,
        )
        report = await run_soak(options, console)
        render_soak(report, console)
        return report.passed()

    async def with_own_stack() -> bool:
        import tempfile
        from pathlib import Path

        from devstack.stack import StackOutput, settings_on_free_ports

        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            settings = settings_on_free_ports(
                Path(folder) / "data", kafka_bootstrap_servers=None
            )
            output = StackOutput(Console(stderr=True, highlight=False))
            async with Stack(settings, output):
                return await soak_against(settings)

    passed = asyncio.run(
        with_own_stack() if own_stack else soak_against(StackSettings())
    )
    raise typer.Exit(0 if passed else 1)
