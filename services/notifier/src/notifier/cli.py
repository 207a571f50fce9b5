"""The ``notifier`` command: serve, migrate."""

import asyncio
from pathlib import Path

import typer

from notifier import __version__
from notifier.settings import NotifierSettings
from shared import database
from shared.instrumentation import instrument_process
from shared.serving import serve as serve_app
from shared.telemetry import setup_telemetry

MIGRATIONS = Path(__file__).parent / "migrations"

cli = typer.Typer(help="authtrail notifier service", no_args_is_help=True)


@cli.command()
def migrate() -> None:
    """Upgrade the notifier database to the newest schema."""
    settings = NotifierSettings()
    asyncio.run(database.upgrade(MIGRATIONS, settings.database_url))


@cli.command()
def serve(
    migrate_first: bool = typer.Option(
        True, "--migrate/--no-migrate", help="upgrade the schema before serving"
    ),
) -> None:
    """Consume auth events and send mails; health probes over HTTP.

    Runs until SIGINT or SIGTERM.
    """
    from notifier.app import create_app

    settings = NotifierSettings()
    telemetry = setup_telemetry("notifier", __version__)
    instrument_process()
    try:
        if migrate_first:
            asyncio.run(database.upgrade(MIGRATIONS, settings.database_url))
        serve_app(
            create_app(settings),
            settings.host,
            settings.port,
            on_stopped=telemetry.shutdown,
        )
    finally:
        telemetry.shutdown()


def main() -> None:
    cli()
