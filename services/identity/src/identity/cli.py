"""The ``identity`` command: serve, migrate, relay, rebuild-read-models."""

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

import typer

from identity import __version__
from identity.settings import IdentitySettings
from shared import database
from shared.instrumentation import instrument_engine, instrument_process
from shared.serving import serve as serve_app
from shared.telemetry import setup_telemetry

MIGRATIONS = Path(__file__).parent / "migrations"

logger = logging.getLogger(__name__)
cli = typer.Typer(help="authtrail identity service", no_args_is_help=True)


@cli.command()
def migrate() -> None:
    """Upgrade the identity database to the newest schema."""
    settings = IdentitySettings()
    asyncio.run(database.upgrade(MIGRATIONS, settings.database_url))


@cli.command()
def serve() -> None:
    """Run the HTTP service (and the outbox relay) until SIGINT or SIGTERM."""
    from identity.app import create_app

    settings = IdentitySettings()
    telemetry = setup_telemetry("identity", __version__)
    instrument_process()
    try:
        serve_app(
            create_app(settings),
            settings.host,
            settings.port,
            on_stopped=telemetry.shutdown,
        )
    finally:
        telemetry.shutdown()


@cli.command()
def relay() -> None:
    """Run the outbox relay alone until SIGINT or SIGTERM."""
    settings = IdentitySettings()
    telemetry = setup_telemetry("identity-relay", __version__)
    instrument_process()
    try:
        asyncio.run(_relay(settings))
    finally:
        telemetry.shutdown()


@cli.command("rebuild-read-models")
def rebuild_read_models() -> None:
    """Derive every read model again from the events alone."""
    settings = IdentitySettings()
    telemetry = setup_telemetry("identity", __version__)
    try:
        count = asyncio.run(_rebuild(settings))
        logger.info("identity.read_models_rebuilt", extra={"events": count})
    finally:
        telemetry.shutdown()


async def _relay(settings: IdentitySettings) -> None:
    from identity.adapters.outbox_relay import OutboxRelay
    from identity.app import relay_options

    engine = database.create_engine(settings.database_url, pool_name="identity-relay")
    instrument_engine(engine)
    task = asyncio.create_task(
        OutboxRelay(engine, settings, relay_options(settings)).run()
    )
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await task
    finally:
        await engine.dispose()


async def _rebuild(settings: IdentitySettings) -> int:
    from identity.adapters.event_store import EventStore

    engine = database.create_engine(settings.database_url, pool_name="identity")
    try:
        return await EventStore(engine).rebuild_read_models()
    finally:
        await engine.dispose()


def main() -> None:
    cli()
