"""The ``audit`` command: serve, migrate."""

import asyncio
from pathlib import Path

import typer

from audit import __version__
from audit.settings import AuditSettings
from shared import database
from shared.serving import serve as serve_app
from shared.telemetry import setup_telemetry

MIGRATIONS = Path(__file__).parent / "migrations"

cli = typer.Typer(help="authtrail audit service", no_args_is_help=True)


@cli.command()
def migrate() -> None:
    """Upgrade the audit database to the newest schema."""
    settings = AuditSettings()
    asyncio.run(database.upgrade(MIGRATIONS, settings.database_url))


@cli.command()
def serve() -> None:
    """Run the HTTP service until SIGINT or SIGTERM."""
    from audit.app import create_app

    settings = AuditSettings()
    telemetry = setup_telemetry("audit", __version__)
    try:
        serve_app(create_app(settings), settings.host, settings.port)
    finally:
        telemetry.shutdown()


def main() -> None:
    cli()
