"""The ``identity`` command: serve, migrate."""

import asyncio
from pathlib import Path

import typer

from identity import __version__
from identity.settings import IdentitySettings
from shared import database
from shared.serving import serve as serve_app
from shared.telemetry import setup_telemetry

MIGRATIONS = Path(__file__).parent / "migrations"

cli = typer.Typer(help="authtrail identity service", no_args_is_help=True)


@cli.command()
def migrate() -> None:
    """Upgrade the identity database to the newest schema."""
    settings = IdentitySettings()
    asyncio.run(database.upgrade(MIGRATIONS, settings.database_url))


@cli.command()
def serve() -> None:
    """Run the HTTP service until SIGINT or SIGTERM."""
    from identity.app import create_app

    settings = IdentitySettings()
    telemetry = setup_telemetry("identity", __version__)
    try:
        serve_app(create_app(settings), settings.host, settings.port)
    finally:
        telemetry.shutdown()


def main() -> None:
    cli()
