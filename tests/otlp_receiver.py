"""A real OTLP/gRPC receiver for tests: decodes and keeps what it is sent.

Services export to it exactly as they would to a collector; tests then look
at the decoded spans, metrics and log records.
"""

import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.proto.collector.logs.v1 import (
    logs_service_pb2,
    logs_service_pb2_grpc,
)
from opentelemetry.proto.collector.metrics.v1 import (
    metrics_service_pb2,
    metrics_service_pb2_grpc,
)
from opentelemetry.proto.collector.trace.v1 import (
    trace_service_pb2,
    trace_service_pb2_grpc,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def any_value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


def attributes(items: Any) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in items}


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int
    attributes: dict[str, Any]
    events: list[dict[str, Any]]


@dataclass
class OtlpReceiver:
    """Collects every export request; thread-safe, started on a free port."""

    port: int = 0
    traces: list[trace_service_pb2.ExportTraceServiceRequest] = field(
        default_factory=list
    )
    metrics: list[metrics_service_pb2.ExportMetricsServiceRequest] = field(
        default_factory=list
    )
    logs: list[logs_service_pb2.ExportLogsServiceRequest] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: grpc.Server | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "OtlpReceiver":
        receiver = self
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
            def Export(self, request: Any, context: Any) -> Any:
                with receiver._lock:
                    receiver.traces.append(request)
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):  # type: ignore[misc]
            def Export(self, request: Any, context: Any) -> Any:
                with receiver._lock:
                    receiver.metrics.append(request)
                return metrics_service_pb2.ExportMetricsServiceResponse()

        class Logs(logs_service_pb2_grpc.LogsServiceServicer):  # type: ignore[misc]
            def Export(self, request: Any, context: Any) -> Any:
                with receiver._lock:
                    receiver.logs.append(request)
                return logs_service_pb2.ExportLogsServiceResponse()

        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
        logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
        self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop(grace=1).wait()
            self._server = None

    def spans(self) -> list[ReceivedSpan]:
        with self._lock:
            requests = list(self.traces)
        return [
            ReceivedSpan(
                service=str(attributes(rs.resource.attributes).get("service.name")),
                name=span.name,
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_span_id=span.parent_span_id.hex(),
                kind=span.kind,
                attributes=attributes(span.attributes),
                events=[
                    {"name": e.name, **attributes(e.attributes)} for e in span.events
                ],
            )
            for request in requests
            for rs in request.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        ]

    def log_records(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(service, record) pairs; record has body, severity, attributes, ids."""
        with self._lock:
            requests = list(self.logs)
        for request in requests:
            for rl in request.resource_logs:
                service = str(attributes(rl.resource.attributes).get("service.name"))
                for sl in rl.scope_logs:
                    for record in sl.log_records:
                        yield (
                            service,
                            {
                                "body": any_value(record.body),
                                "severity": record.severity_text,
                                "attributes": attributes(record.attributes),
                                "trace_id": record.trace_id.hex(),
                                "span_id": record.span_id.hex(),
                                "time_unix_nano": record.time_unix_nano,
                            },
                        )

    def metric_attributes(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(service, metric name, data point attributes) for every point."""
        with self._lock:
            requests = list(self.metrics)
        for request in requests:
            for rm in request.resource_metrics:
                service = str(attributes(rm.resource.attributes).get("service.name"))
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        kind = metric.WhichOneof("data")
                        for point in getattr(metric, kind).data_points:
                            yield service, metric.name, attributes(point.attributes)

    def metric_streams(self) -> set["MetricStream"]:
        """What each service exported: name, kind, unit and attribute keys."""
        with self._lock:
            requests = list(self.metrics)
        streams = set()
        for request in requests:
            for rm in request.resource_metrics:
                service = str(attributes(rm.resource.attributes).get("service.name"))
                for sm in rm.scope_metrics:
                    for metric in sm.metrics:
                        kind = metric.WhichOneof("data")
                        data = getattr(metric, kind)
                        if kind == "sum":
                            kind = "counter" if data.is_monotonic else "updowncounter"
                        keys = frozenset(
                            key
                            for point in data.data_points
                            for key in attributes(point.attributes)
                        )
                        streams.add(
                            MetricStream(service, metric.name, kind, metric.unit, keys)
                        )
        return streams


@dataclass(frozen=True)
class MetricStream:
    service: str
    name: str
    kind: str
    """counter, updowncounter, gauge or histogram."""
    unit: str
    attribute_keys: frozenset[str]


__all__ = ["AnyValue", "KeyValue", "MetricStream", "OtlpReceiver", "ReceivedSpan"]
