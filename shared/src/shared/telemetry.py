"""OpenTelemetry set-up, once per process: traces, metrics and logs.

Console exporters when no OTLP endpoint is configured, OTLP otherwise (gRPC or
HTTP per ``OTEL_EXPORTER_OTLP_PROTOCOL``). Sampling follows the SDK's standard
``OTEL_TRACES_SAMPLER`` variables. The instrumentation libraries do the generic
work; services add ``auth.*`` spans and metrics on top.
"""

import logging
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import (
    BatchLogRecordProcessor,
    ConsoleLogRecordExporter,
    LogRecordExporter,
)
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

logger = logging.getLogger(__name__)

HEALTH_URLS = "healthz,readyz"


class TelemetrySettings(BaseSettings):
    """The standard ``OTEL_*`` variables this bootstrap itself looks at."""

    model_config = SettingsConfigDict(extra="ignore")

    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    otel_exporter_otlp_protocol: str = "grpc"
    otel_sdk_disabled: bool = False
    otel_metric_export_interval: int = Field(
        default=60_000, validation_alias=AliasChoices("OTEL_METRIC_EXPORT_INTERVAL")
    )
    deployment_environment: str = "development"
    log_level: str = "INFO"

    @property
    def otlp_configured(self) -> bool:
        return bool(
            self.otel_exporter_otlp_endpoint or self.otel_exporter_otlp_traces_endpoint
        )


@dataclass
class Telemetry:
    """The providers of one process; ``shutdown`` flushes them."""

    resource: Resource
    destination: str
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    _handlers: list[logging.Handler] = field(default_factory=list)

    def shutdown(self) -> None:
        for handler in self._handlers:
            logging.getLogger().removeHandler(handler)
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()
        self.logger_provider.shutdown()


def _exporters(
    settings: TelemetrySettings, stream: TextIO
) -> tuple[SpanExporter, MetricExporter, LogRecordExporter, str]:
    if not settings.otlp_configured:
        return (
            ConsoleSpanExporter(out=stream),
            ConsoleMetricExporter(out=stream),
            ConsoleLogRecordExporter(out=stream),
            "console",
        )
    if settings.otel_exporter_otlp_protocol.startswith("http"):
        from opentelemetry.exporter.otlp.proto.http._log_exporter import (
            OTLPLogExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter,
        )
    else:
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import (  # type: ignore[assignment]
            OTLPLogExporter,
        )
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (  # type: ignore[assignment]
            OTLPMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # type: ignore[assignment]
            OTLPSpanExporter,
        )
    target = (
        settings.otel_exporter_otlp_traces_endpoint
        or settings.otel_exporter_otlp_endpoint
    )
    return (
        OTLPSpanExporter(),
        OTLPMetricExporter(),
        OTLPLogExporter(),
        f"OTLP {settings.otel_exporter_otlp_protocol} {target}",
    )


def setup_telemetry(
    service_name: str,
    version: str,
    settings: TelemetrySettings | None = None,
    *,
    console: TextIO | None = None,
) -> Telemetry:
    """Install the global providers and the logging bridge for this process."""
    settings = settings or TelemetrySettings()
    resource = Resource.create(
        {
            "service.name": service_name,
            "service.version": version,
            "deployment.environment": settings.deployment_environment,
            "deployment.environment.name": settings.deployment_environment,
        }
    )
    span_exporter, metric_exporter, log_exporter, destination = _exporters(
        settings, console or sys.stdout
    )

    tracer_provider = TracerProvider(resource=resource)
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[
            PeriodicExportingMetricReader(
                metric_exporter,
                export_interval_millis=settings.otel_metric_export_interval,
            )
        ],
    )
    logger_provider = LoggerProvider(resource=resource)
    if settings.otel_sdk_disabled:
        destination = "nowhere (OTEL_SDK_DISABLED)"
    else:
        tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
        logger_provider.add_log_record_processor(BatchLogRecordProcessor(log_exporter))
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
        set_logger_provider(logger_provider)

    handlers = configure_logging(
        settings.log_level, logger_provider, otel=not settings.otel_sdk_disabled
    )
    telemetry = Telemetry(
        resource,
        destination,
        tracer_provider,
        meter_provider,
        logger_provider,
        handlers,
    )
    logger.info(
        "telemetry.started",
        extra={
            "service": service_name,
            "version": version,
            "traces": destination,
            "metrics": destination,
            "logs": destination,
        },
    )
    return telemetry


class KeyValueFormatter(logging.Formatter):
    """``time level logger event key=value ...``: one line per record."""

    _skip = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
        "message",
        "asctime",
    }

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        fields = " ".join(
            f"{k}={_render(v)}"
            for k, v in record.__dict__.items()
            if k not in self._skip and k != "color_message" and not k.startswith("otel")
        )
        return f"{base} {fields}".rstrip()


def _render(value: Any) -> str:
    text = str(value)
    return repr(text) if (" " in text or not text) else text


def configure_logging(
    level: str, logger_provider: LoggerProvider | None = None, *, otel: bool = True
) -> list[logging.Handler]:
    """Structured logs to stderr and, when enabled, to the OTel log pipeline."""
    root = logging.getLogger()
    root.setLevel(level.upper())
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(
        KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handlers: list[logging.Handler] = [stream]
    if otel and logger_provider is not None:
        handlers.append(LoggingHandler(logger_provider=logger_provider))
    for handler in handlers:
        root.addHandler(handler)
    for noisy in ("aiokafka", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return handlers
