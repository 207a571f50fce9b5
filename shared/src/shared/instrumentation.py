"""The generic instrumentation of a service, done once per object.

FastAPI, SQLAlchemy, aiokafka and logging come from the OpenTelemetry
instrumentation libraries; this module adds what they leave out: request and
response sizes and the user id on server spans, operation, table and row count
on database spans (named ``<operation> <table>``). Health probes produce no
spans: neither the server span nor those of the checks behind ``/readyz``.
"""

import re
import weakref
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.logging import LoggingInstrumentor
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import NoOpMeter
from sqlalchemy import Engine, event
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.http.health import HEALTH_PATHS
from shared.telemetry import HEALTH_URLS

_STATEMENT = re.compile(
    r"^\s*(?P<op>SELECT|INSERT|UPDATE|DELETE|WITH|BEGIN|COMMIT|PRAGMA|CREATE|ALTER|DROP)"
    r"(?:\s+\"?(?P<updated>[A-Za-z_][\w.]*)\"?\s+SET\b"
    r"|.*?\b(?:FROM|INTO|TABLE)\s+\"?(?P<table>[A-Za-z_][\w.]*))?",
    re.IGNORECASE | re.DOTALL,
)


_instrumented_engines: "weakref.WeakSet[Engine]" = weakref.WeakSet()
_sql_tracer = trace.get_tracer("opentelemetry.instrumentation.sqlalchemy")
# The instrumentation's own pool counter (db.client.connections.usage) would
# repeat, under an outdated name, what shared.pool_metrics reports.
_sql_connections_usage = NoOpMeter(
    "opentelemetry.instrumentation.sqlalchemy"
).create_up_down_counter("db.client.connections.usage")


def set_authenticated_user(user_id: str) -> None:
    """Put the authenticated user on the current (server) span."""
    trace.get_current_span().set_attribute("user.id", user_id)


class BodySizeMiddleware:
    """Records ``http.request.body.size`` and ``http.response.body.size``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        span = trace.get_current_span()
        sizes = {"request": 0, "response": 0}

        async def counting_receive() -> Message:
            message = await receive()
            sizes["request"] += len(message.get("body", b""))
            return message

        async def counting_send(message: Message) -> None:
            if message["type"] == "http.response.body":
                sizes["response"] += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, counting_receive, counting_send)
        finally:
            if span.is_recording():
                span.set_attribute("http.request.body.size", sizes["request"])
                span.set_attribute("http.response.body.size", sizes["response"])


class SilentHealthProbes:
    """No instrumentation inside a health probe: its database ping and broker
    check would otherwise start a trace of their own every few seconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in HEALTH_PATHS:
            with suppress_instrumentation():
                await self.app(scope, receive, send)
            return
        await self.app(scope, receive, send)


def instrument_app(app: FastAPI) -> None:
    """Server spans and HTTP metrics for every route but the health probes."""
    if getattr(app.state, "otel_instrumented", False):
        return
    app.add_middleware(BodySizeMiddleware)
    app.add_middleware(SilentHealthProbes)
    FastAPIInstrumentor.instrument_app(
        app, excluded_urls=HEALTH_URLS, exclude_spans=["receive", "send"]
    )
    app.state.otel_instrumented = True


def instrument_engine(engine: AsyncEngine) -> None:
    """Database spans for one async engine, exactly once."""
    sync_engine = engine.sync_engine
    if sync_engine in _instrumented_engines:
        return
    # Ours first: the tracer's own listener ends the span.
    event.listen(sync_engine, "after_cursor_execute", _describe_statement)
    # The instrumentor instruments one engine per process; its EngineTracer is
    # what it attaches to each engine it is given.
    EngineTracer(_sql_tracer, sync_engine, _sql_connections_usage)  # type: ignore[no-untyped-call]
    _instrumented_engines.add(sync_engine)


def _describe_statement(
    _conn: Any,
    cursor: Any,
    statement: str,
    _params: Any,
    context: Any,
    _executemany: bool,
) -> None:
    span = getattr(context, "_otel_span", None)
    if span is None or not span.is_recording():
        return
    match = _STATEMENT.match(statement)
    if match:
        operation = match["op"].upper()
        span.set_attribute("db.operation.name", operation)
        table = match["updated"] or match["table"]
        if table:
            span.set_attribute("db.collection.name", table)
        # Named as the current conventions name database spans: what ran on
        # which table, instead of the instrumentation's operation and database
        # (a whole file path on SQLite).
        span.update_name(f"{operation} {table}" if table else operation)
    rowcount = getattr(cursor, "rowcount", -1)
    if isinstance(rowcount, int) and rowcount >= 0:
        span.set_attribute("db.response.returned_rows", rowcount)


_process_instrumented: set[str] = set()


def instrument_process() -> None:
    """aiokafka and logging instrumentation, once per process.

    The logging instrumentation only puts the trace and span ids on every
    record (``otelTraceID``, ``otelSpanID``); the bridge into the log pipeline
    is :func:`shared.telemetry.setup_telemetry`'s, so no record goes twice.
    """
    if "kafka" not in _process_instrumented:
        AIOKafkaInstrumentor().instrument()
        _process_instrumented.add("kafka")
    if "logging" not in _process_instrumented:
        LoggingInstrumentor().instrument(
            set_logging_format=False,
            inject_trace_context=True,
            enable_log_auto_instrumentation=False,
        )
        _process_instrumented.add("logging")
