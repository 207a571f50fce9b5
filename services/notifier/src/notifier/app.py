"""The notifier app factory: health probes over HTTP, the consumer as a task.

The lifespan starts the worker beside the HTTP server and, on shutdown, lets
the record in hand finish before the database closes.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from notifier import __version__
from notifier.domain.notices import Unsealer
from notifier.settings import NotifierSettings
from notifier.worker import NotifierWorker
from shared.database import create_engine, ping
from shared.http import health_router, install_problem_handlers
from shared.http.health import broker_check
from shared.instrumentation import instrument_app, instrument_engine
from shared.sealing import sealer_from_settings

logger = logging.getLogger(__name__)

# Beyond the SMTP timeout, what a stop may wait for the record in hand.
STOP_GRACE_SECONDS = 5.0


def create_app(
    settings: NotifierSettings | None = None, *, sealer: Unsealer | None = None
) -> FastAPI:
    settings = settings or NotifierSettings()
    engine = create_engine(settings.database_url, pool_name="notifier")
    instrument_engine(engine)
    worker = NotifierWorker(settings, engine, sealer or sealer_from_settings(settings))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(worker.run(), name="notifier-consumer")
        try:
            yield
        finally:
            worker.stop()
            try:
                await asyncio.wait_for(
                    task, settings.smtp_timeout_seconds + STOP_GRACE_SECONDS
                )
            except TimeoutError:
                logger.error("notifier.stop_timed_out")
            await engine.dispose()

    async def consumer_check() -> None:
        if not worker.consuming:
            raise RuntimeError("the consumer is not running")

    app = FastAPI(title="authtrail notifier", version=__version__, lifespan=lifespan)
    app.state.worker = worker
    install_problem_handlers(app)
    app.include_router(
        health_router(
            {
                "database": lambda: ping(engine),
                "broker": broker_check(settings.kafka_bootstrap_servers),
                "consumer": consumer_check,
            }
        )
    )
    instrument_app(app)
    return app
