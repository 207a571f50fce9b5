"""The audit app factory: query API and dashboard; consumer and alerts as tasks.

The lifespan starts the projection consumer and the alert evaluator beside the
HTTP server; the API keeps answering from the store while the broker is away.
"""

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from audit import __version__
from audit.adapters.alert_sinks import KafkaAlertSink, WebhookAlertSink
from audit.adapters.store_engine import audit_engine
from audit.alerting import AlertEvaluator, AlertSink
from audit.consumer import AuditConsumer
from audit.errors import StoreUnavailable
from audit.http.api import api_router
from audit.http.dashboard import dashboard_router
from audit.projection import Projection
from audit.queries import AuditQueries, Clock, utc_now
from audit.settings import AuditSettings
from shared.database import ping
from shared.http import (
    Problem,
    ReadinessCheck,
    health_router,
    install_problem_handlers,
)
from shared.http.health import broker_check
from shared.http.problems import problem_response
from shared.instrumentation import instrument_app, instrument_engine

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
STOP_GRACE_SECONDS = 10.0


def create_app(
    settings: AuditSettings | None = None,
    *,
    background: bool = True,
    clock: Clock = utc_now,
) -> FastAPI:
    """The audit service. ``background=False`` serves queries only (no consumer,
    no alert evaluation); ``clock`` is the "now" of queries and alert rounds."""
    settings = settings or AuditSettings()
    engine = audit_engine(settings.database_url)
    instrument_engine(engine)
    queries = AuditQueries(engine, clock)
    consumer = AuditConsumer(settings, Projection(engine))
    sinks: list[AlertSink] = [KafkaAlertSink(settings)]
    if settings.alert_webhook_url is not None:
        sinks.append(
            WebhookAlertSink(
                str(settings.alert_webhook_url), settings.alert_webhook_timeout_s
            )
        )
    evaluator = AlertEvaluator(engine, settings.alert_policy(), sinks)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        stopping = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if background:
            tasks = [
                asyncio.create_task(consumer.run(), name="audit-consumer"),
                asyncio.create_task(
                    evaluator.run(
                        settings.alert_evaluation_interval_s, clock, stopping
                    ),
                    name="audit-alerts",
                ),
            ]
        try:
            yield
        finally:
            consumer.stop()
            stopping.set()
            if tasks:
                _done, late = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
                for task in late:
                    logger.error(
                        "audit.stop_timed_out", extra={"task": task.get_name()}
                    )
                    task.cancel()
            await evaluator.close()
            await engine.dispose()

    app = FastAPI(title="authtrail audit", version=__version__, lifespan=lifespan)
    install_problem_handlers(app)

    @app.exception_handler(StoreUnavailable)
    async def _database_away(request: Request, exc: Exception) -> JSONResponse:
        logger.warning(
            "audit.database_unavailable",
            extra={"path": request.url.path, "error": str(exc)},
        )
        return problem_response(
            Problem(
                503,
                "service_unavailable",
                "Service unavailable",
                "The audit store is not reachable; try again shortly.",
                headers={"Retry-After": "5"},
            )
        )

    async def consumer_check() -> None:
        if not consumer.consuming:
            raise RuntimeError("the consumer is not running")

    checks: dict[str, ReadinessCheck] = {
        "database": lambda: ping(engine),
        "broker": broker_check(settings.kafka_bootstrap_servers),
    }
    if background:
        checks["consumer"] = consumer_check
    app.include_router(health_router(checks))
    app.include_router(api_router(queries))
    app.include_router(
        dashboard_router(queries, settings.jaeger_ui_url, settings.dashboard_refresh_s)
    )
    app.mount("/static", StaticFiles(directory=STATIC, packages=None), name="static")
    app.state.consumer = consumer
    app.state.evaluator = evaluator
    app.state.queries = queries
    instrument_app(app)
    return app
