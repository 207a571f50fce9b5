"""An OTLP/HTTP receiver in the test's event loop: the spans the services export.

OTLP over HTTP rather than gRPC: the stack's children are forked from the
test process, and forking a process that runs gRPC threads made children
abort now and then (grpc: ``epoll_wait error: Bad file descriptor``).
"""

import asyncio
import gzip
from dataclasses import dataclass, field

import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from devstack.broker import free_port


@dataclass(frozen=True)
class ExportedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_span_id: str
    kind: int


@dataclass
class OtlpHttpReceiver:
    port: int = field(default_factory=free_port)
    _spans: list[ExportedSpan] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _task: "asyncio.Task[None] | None" = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spans(self) -> list[ExportedSpan]:
        return list(self._spans)

    async def start(self) -> None:
        app = Starlette(routes=[Route("/v1/{signal}", self._export, methods=["POST"])])
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning",
            lifespan="off", ws="none",
        )  # fmt: skip
        self._server = uvicorn.Server(config)
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task

    async def _export(self, request: Request) -> Response:
        body = await request.body()
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        if request.path_params["signal"] == "traces":
            self._spans.extend(_decoded(body))
        return Response(b"", media_type="application/x-protobuf")


def _decoded(body: bytes) -> list[ExportedSpan]:
    exported = ExportTraceServiceRequest()
    exported.ParseFromString(body)
    spans: list[ExportedSpan] = []
    for resource_spans in exported.resource_spans:
        service = next(
            (
                a.value.string_value
                for a in resource_spans.resource.attributes
                if a.key == "service.name"
            ),
            "",
        )
        for scope_spans in resource_spans.scope_spans:
            spans.extend(
                ExportedSpan(
                    service,
                    span.name,
                    span.trace_id.hex(),
                    span.span_id.hex(),
                    span.parent_span_id.hex(),
                    span.kind,
                )
                for span in scope_spans.spans
            )
    return spans
