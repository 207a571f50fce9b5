"""A local OTLP/gRPC receiver standing in for the collector.

``python -m bench.otlp_sink PORT``: accepts trace, metric and log exports and
counts what it received (spans, data points are not decoded further), so the
services pay the full price of exporting: serialisation, gRPC, the network
stack. Prints its counts as JSON on SIGTERM.
"""

import json
import signal
import sys
import threading
from concurrent import futures
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

counts = {"span_requests": 0, "spans": 0, "metric_requests": 0, "log_records": 0}
lock = threading.Lock()


class Traces(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def Export(self, request: Any, context: Any) -> Any:
        spans = sum(len(s.spans) for r in request.resource_spans for s in r.scope_spans)
        with lock:
            counts["span_requests"] += 1
            counts["spans"] += spans
        return trace_service_pb2.ExportTraceServiceResponse()


class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):  # type: ignore[misc]
    def Export(self, request: Any, context: Any) -> Any:
        with lock:
            counts["metric_requests"] += 1
        return metrics_service_pb2.ExportMetricsServiceResponse()


class Logs(logs_service_pb2_grpc.LogsServiceServicer):  # type: ignore[misc]
    def Export(self, request: Any, context: Any) -> Any:
        records = sum(
            len(s.log_records) for r in request.resource_logs for s in r.scope_logs
        )
        with lock:
            counts["log_records"] += records
        return logs_service_pb2.ExportLogsServiceResponse()


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), server)
    metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), server)
    logs_service_pb2_grpc.add_LogsServiceServicer_to_server(Logs(), server)
    server.add_insecure_port(f"127.0.0.1:{int(sys.argv[1])}")
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop(grace=1).wait()
    print(json.dumps(counts), flush=True)


if __name__ == "__main__":
    main()
