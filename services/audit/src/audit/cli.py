"""The ``audit`` command: serve, migrate, rebuild."""

import asyncio
from pathlib import Path

import typer

from audit import __version__
from audit.settings import AuditSettings
from shared import database
from shared.instrumentation import instrument_process
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
def serve(
    migrate_first: bool = typer.Option(
        True, "--migrate/--no-migrate", help="upgrade the schema before serving"
    ),
) -> None:
    """Serve the query API and dashboard, consume events, evaluate alerts.

    Runs until SIGINT or SIGTERM.
    """
    from audit.app import create_app

    settings = AuditSettings()
    telemetry = setup_telemetry("audit", __version__)
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


@cli.command()
def rebuild() -> None:
    """Re-read the topics from the start into freshly emptied projection tables.

    The tables are refilled in one transaction, so nobody sees a half-built
    projection; on PostgreSQL, stop the service first (docs/audit.md). Alert
    history is kept.
    """
    from audit.adapters.store_engine import audit_engine
    from audit.rebuild import rebuild as run_rebuild

    settings = AuditSettings()
    telemetry = setup_telemetry("audit", __version__)

    async def run() -> None:
        await database.upgrade(MIGRATIONS, settings.database_url)
        engine = audit_engine(settings.database_url)
        try:
            report = await run_rebuild(
                settings,
                (settings.auth_events_topic, settings.notification_events_topic),
                engine,
            )
        finally:
            await engine.dispose()
        typer.echo(
            f"rebuilt the audit projection: {report.projected} events from "
            f"{report.messages} messages ({report.malformed} malformed skipped) "
            f"in {report.seconds} s"
        )

    try:
        asyncio.run(run())
    finally:
        telemetry.shutdown()


def main() -> None:
    cli()
