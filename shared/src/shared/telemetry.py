"""OpenTelemetry set-up, once per process: traces, metrics and logs.

Each signal goes over OTLP when an endpoint is configured for it
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT``;
gRPC or HTTP per ``OTEL_EXPORTER_OTLP_[<SIGNAL>_]PROTOCOL``), and to stdout
as one line per item otherwise. Sampling follows the SDK's standard
``OTEL_TRACES_SAMPLER`` and ``OTEL_TRACES_SAMPLER_ARG``; the export intervals
``OTEL_BSP_SCHEDULE_DELAY`` and ``OTEL_METRIC_EXPORT_INTERVAL``.

Every log record is written once: by the console log exporter when logs stay
local, over OTLP otherwise. With OTLP, stderr carries only a one-line start-up
banner and records at ERROR or above, so ``kubectl logs`` still shows what an
operator must act on when the collector is unreachable. With
``OTEL_SDK_DISABLED`` every record goes to stderr as key=value.
"""

import logging
import sys
import uuid
from dataclasses import dataclass, field
from typing import Literal, TextIO

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.instrumentation.logging.handler import LoggingHandler
from opentelemetry.sdk._logs import LoggerProvider, LogRecordProcessor
from opentelemetry.sdk._logs import ReadWriteLogRecord as LogData
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    ConsoleLogRecordExporter,
    SimpleLogRecordProcessor,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import DropAggregation, View
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.console_lines import (
    CORRELATION_FIELDS,
    KeyValueFormatter,
    log_line,
    metrics_lines,
    span_line,
)

logger = logging.getLogger(__name__)

HEALTH_URLS = "healthz,readyz"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# uvicorn.access would log every request, probes included; SQLAlchemy's pool
# (our ObservedQueuePool logs under its own module) announces every dispose.
# aiosqlite logs every statement with its values at DEBUG: password hashes and
# token digests included, so it stays at WARNING whatever LOG_LEVEL says.
QUIET_LOGGERS = (
    "aiokafka",
    "uvicorn.access",
    "sqlalchemy",
    "shared.pool_metrics",
    "aiosqlite",
)
# Repeats of what a log record carries anyway: its trace and span ids, and
# uvicorn's message again with terminal colours.
REPEATED_FIELDS = (*CORRELATION_FIELDS, "color_message")

# The HTTP instrumentation records more than the catalogue lists: body sizes
# are on the server spans already, and the alert rules use the duration only.
DROPPED_INSTRUMENTS = (
    "http.server.active_requests",
    "http.server.request.size",
    "http.server.response.size",
)

Signal = Literal["traces", "metrics", "logs"]
SIGNALS: tuple[Signal, ...] = ("traces", "metrics", "logs")


class TelemetrySettings(BaseSettings):
    """The standard ``OTEL_*`` variables this bootstrap itself looks at."""

    model_config = SettingsConfigDict(extra="ignore")

    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_exporter_otlp_metrics_endpoint: str | None = None
    otel_exporter_otlp_logs_endpoint: str | None = None
    otel_exporter_otlp_protocol: str = "grpc"
    otel_exporter_otlp_traces_protocol: str | None = None
    otel_exporter_otlp_metrics_protocol: str | None = None
    otel_exporter_otlp_logs_protocol: str | None = None
    otel_sdk_disabled: bool = False
    deployment_environment: str = "development"
    log_level: str = "INFO"

    def endpoint(self, signal: Signal) -> str | None:
        specific: str | None = getattr(self, f"otel_exporter_otlp_{signal}_endpoint")
        return specific or self.otel_exporter_otlp_endpoint

    def protocol(self, signal: Signal) -> str:
        specific: str | None = getattr(self, f"otel_exporter_otlp_{signal}_protocol")
        return specific or self.otel_exporter_otlp_protocol

    def destination(self, signal: Signal) -> str:
        """``console`` or ``OTLP <protocol> <endpoint>``, as the banner says it."""
        if self.otel_sdk_disabled:
            return "nowhere"
        endpoint = self.endpoint(signal)
        return f"OTLP {self.protocol(signal)} {endpoint}" if endpoint else "console"

    @property
    def otlp_configured(self) -> bool:
        return any(self.endpoint(s) for s in SIGNALS)


@dataclass
class Telemetry:
    """The providers of one process; ``shutdown`` flushes them."""

    resource: Resource
    destinations: dict[Signal, str]
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    _handlers: list[logging.Handler] = field(default_factory=list)
    _stopped: bool = False

    @property
    def destination(self) -> str:
        return self.destinations["traces"]

    def shutdown(self) -> None:
        """Export what is still buffered, then detach from logging; once."""
        if self._stopped:
            return
        self._stopped = True
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()
        for handler in self._handlers:
            logging.getLogger().removeHandler(handler)


def setup_telemetry(
    service_name: str,
    version: str,
    settings: TelemetrySettings | None = None,
    *,
    console: TextIO | None = None,
) -> Telemetry:
    """Install the global providers and the logging bridge for this process.

    ``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` override the
    resource attributes given here.
    """
    settings = settings or TelemetrySettings()
    out = console or sys.stdout
    resource = _resource(service_name, version, settings.deployment_environment)
    destinations: dict[Signal, str] = {s: settings.destination(s) for s in SIGNALS}
    tracer_provider = TracerProvider(resource=resource)
    logger_provider = LoggerProvider(resource=resource)
    readers = []
    if not settings.otel_sdk_disabled:
        readers.append(PeriodicExportingMetricReader(_metric_exporter(settings, out)))
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=readers,
        views=[
            View(instrument_name=n, aggregation=DropAggregation())
            for n in DROPPED_INSTRUMENTS
        ],
    )
    stderr = logging.StreamHandler(sys.stderr)
    stderr.setFormatter(KeyValueFormatter(LOG_FORMAT))
    handlers: list[logging.Handler] = []
    if settings.otel_sdk_disabled:
        handlers.append(stderr)
    else:
        tracer_provider.add_span_processor(
            BatchSpanProcessor(_span_exporter(settings, out))
        )
        logger_provider.add_log_record_processor(_DropRepeatedFields())
        logger_provider.add_log_record_processor(_log_processor(settings, out))
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
        set_logger_provider(logger_provider)
        handlers.append(LoggingHandler(logger_provider=logger_provider))
        if _otlp(settings, "logs"):
            # What an operator must act on stays visible without the collector.
            stderr.setLevel(logging.ERROR)
            handlers.append(stderr)
    _banner(stderr, service_name, version, destinations)
    _configure_root(settings.log_level, handlers)
    return Telemetry(
        resource,
        destinations,
        tracer_provider,
        meter_provider,
        logger_provider,
        handlers,
    )


def configure_logging(
    level: str, logger_provider: LoggerProvider | None = None, *, otel: bool = True
) -> list[logging.Handler]:
    """Structured key=value logs to stderr and, with ``otel``, to the OTel log
    pipeline of ``logger_provider``; for processes without telemetry."""
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(KeyValueFormatter(LOG_FORMAT))
    handlers: list[logging.Handler] = [stream]
    if otel and logger_provider is not None:
        handlers.append(LoggingHandler(logger_provider=logger_provider))
    _configure_root(level, handlers)
    return handlers


def _configure_root(level: str, handlers: list[logging.Handler]) -> None:
    root = logging.getLogger()
    root.setLevel(level.upper())
    for handler in handlers:
        root.addHandler(handler)
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _resource(service_name: str, version: str, environment: str) -> Resource:
    defaults = {
        "service.name": service_name,
        "service.version": version,
        "service.instance.id": str(uuid.uuid4()),
        "deployment.environment": environment,
        "deployment.environment.name": environment,
    }
    return Resource.create({**defaults, **OTELResourceDetector().detect().attributes})


def _banner(
    handler: logging.Handler,
    service_name: str,
    version: str,
    destinations: dict[Signal, str],
) -> None:
    """One line on stderr whatever the level: where the three signals go."""
    record = logger.makeRecord(
        logger.name,
        logging.INFO,
        __file__,
        0,
        "telemetry.started",
        (),
        None,
        extra={
            "service": service_name,
            "version": version,
            **{str(k): v for k, v in destinations.items()},
        },
    )
    handler.handle(record)


def _otlp(settings: TelemetrySettings, signal: Signal) -> bool:
    return settings.endpoint(signal) is not None


def _http(settings: TelemetrySettings, signal: Signal) -> bool:
    return settings.protocol(signal).startswith("http")


def _span_exporter(settings: TelemetrySettings, out: TextIO) -> SpanExporter:
    if not _otlp(settings, "traces"):
        return ConsoleSpanExporter(out=out, formatter=span_line)
    if _http(settings, "traces"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        return HttpSpanExporter()
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GrpcSpanExporter,
    )

    return GrpcSpanExporter()


def _metric_exporter(settings: TelemetrySettings, out: TextIO) -> MetricExporter:
    if not _otlp(settings, "metrics"):
        return ConsoleMetricExporter(out=out, formatter=metrics_lines)
    if _http(settings, "metrics"):
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpMetricExporter,
        )

        return HttpMetricExporter()
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
        OTLPMetricExporter as GrpcMetricExporter,
    )

    return GrpcMetricExporter()


def _log_processor(settings: TelemetrySettings, out: TextIO) -> LogRecordProcessor:
    if not _otlp(settings, "logs"):
        # At once, in order with the process's other output, as a handler would.
        return SimpleLogRecordProcessor(
            ConsoleLogRecordExporter(out=out, formatter=log_line)
        )
    if _http(settings, "logs"):
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (
            OTLPLogExporter as HttpLogExporter,
        )

        return BatchLogRecordProcessor(HttpLogExporter())
    from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (
        OTLPLogExporter as GrpcLogExporter,
    )

    return BatchLogRecordProcessor(GrpcLogExporter())


class _DropRepeatedFields(LogRecordProcessor):
    """Drops :data:`REPEATED_FIELDS` from every record's attributes."""

    def on_emit(self, log_record: LogData) -> None:
        attributes = log_record.log_record.attributes
        if attributes:
            for name in REPEATED_FIELDS:
                if name in attributes:
                    del attributes[name]  # type: ignore[attr-defined]

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
