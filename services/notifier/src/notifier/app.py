"""The notifier app factory: resources opened in the lifespan, routes attached."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from notifier import __version__
from notifier.settings import NotifierSettings
from shared.database import create_engine, ping
from shared.http import health_router, install_problem_handlers
from shared.http.health import broker_check


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    engine = create_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await engine.dispose()

    app = FastAPI(title="authtrail notifier", version=__version__, lifespan=lifespan)
    install_problem_handlers(app)
    app.include_router(
        health_router(
            {
                "database": lambda: ping(engine),
                "broker": broker_check(settings.kafka_bootstrap_servers),
            }
        )
    )
    return app
