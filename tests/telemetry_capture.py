"""In-memory OpenTelemetry providers for in-process tests.

The global providers can be set once per process, so the suite installs one
set for the whole run and tests read what was exported through it.
"""

from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
    InMemorySpanExporter,
)


@dataclass
class TelemetryCapture:
    spans: InMemorySpanExporter
    metric_reader: InMemoryMetricReader

    def finished_spans(self) -> tuple[ReadableSpan, ...]:
        return self.spans.get_finished_spans()

    def metric_points(self, name: str) -> list[Any]:
        """Every data point currently reported for the metric ``name``."""
        data = self.metric_reader.get_metrics_data()
        points: list[Any] = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope in resource_metrics.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points


_capture: TelemetryCapture | None = None


def install() -> TelemetryCapture:
    global _capture
    if _capture is None:
        resource = Resource.create({"service.name": "tests"})
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider(resource=resource)
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        trace.set_tracer_provider(tracer_provider)
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(
            MeterProvider(resource=resource, metric_readers=[reader])
        )
        _capture = TelemetryCapture(exporter, reader)
    return _capture
